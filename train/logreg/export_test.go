package logreg

// Synthetic is synthetic for the external tests.
var Synthetic = synthetic
