package clock

// NewFlowOn is NewFlow on a wall clock of the test's.
var NewFlowOn = newFlow
