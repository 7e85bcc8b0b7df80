// Package data holds the datasets that ship with mlpipe and two tests:
// one checks each dataset against its recorded sha256 (see README.md for
// where each file comes from and its licence), the other that no other
// tracked file is over 5 MB (a build output must never be committed). It
// has no code that other packages import.
package data
