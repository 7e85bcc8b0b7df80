// Package domaingbdt is the monitor's domain classifier: a small gbdt
// that learns to tell the reference rows from a window's
// (monitor.DomainFit). It is kept apart from package monitor so that a
// serving binary, which uses the monitor's live gauges, links no
// trainer.
//
// In: a design matrix of the monitor's series and a 0/1 label per row
// (0: reference, 1: window). Out: the fitted model's probabilities.
package domaingbdt
