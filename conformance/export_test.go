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

// OutputTail is the end of the client's output a report shows.
func OutputTail(r *Record) string { return r.outputTail() }

// HarnessMark starts the mark of every client process this harness
// starts, in OAUTHSIM_HARNESS_PROCESS.
var HarnessMark = harnessMark

// Drive makes p count to total runs (Define sets it from the plan) and
// draw only when the spec calls it, never on its own time.
func (p *Progress) Drive(total int) { p.total, p.redraw = total, 0 }

// AtOrigins is atOrigins, for specs of a browser client's registration.
var AtOrigins = atOrigins

// ShowShots is showShots, for specs of which screenshots a report shows.
var ShowShots = showShots
