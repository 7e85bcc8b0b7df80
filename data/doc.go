// Package data holds the datasets that ship with mlpipe and a test that
// checks each one against its recorded sha256 (see README.md for where
// each file comes from and its licence). It has no code that other
// packages import.
package data
