package conformance

// SetOutputKeep sets how much of a client's output a run keeps, and
// returns the old value: specs use a small one to see what is dropped.
func SetOutputKeep(n int) int {
	old := outputKeep
	outputKeep = n
	return old
}

// FindFaketime is findFaketime, for specs that need libfaketime.
var FindFaketime = findFaketime
