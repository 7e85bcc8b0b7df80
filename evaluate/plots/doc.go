// Package plots draws the plots of an evaluation, as SVG or PNG bytes,
// with gonum/plot.
//
// In: an evaluate.Report, or its curves, bins, histogram, grid and
// deciles, and a Format. Out: PlotROC, PlotPR and PlotCalibration
// (binary), PlotResiduals, PlotPredictedVsActual and PlotDeciles
// (regression), PlotContributions (explanations), and Of, a Report's
// plots at once (Plots.Files names them as files). An unknown format or
// a report without plots (multiclass) is an error wrapping
// evaluate.ErrInvalid.
package plots
