package reports

import "io"

// SetWriter replaces the writer of the report called name, for specs that
// interrupt Write while it writes, and returns what undoes it.
func SetWriter(name string, write func(io.Writer, *Results) error) (restore func()) {
	for i := range reportFiles {
		if reportFiles[i].name == name {
			old := reportFiles[i].write
			reportFiles[i].write = alone(write)
			return func() { reportFiles[i].write = old }
		}
	}
	panic("no report " + name)
}

// SetRename replaces the rename that moves the reports into place, and
// returns what undoes it.
func SetRename(r func(from, to string) error) (restore func()) {
	old := rename
	rename = r
	return func() { rename = old }
}

// Staging are the names of staging directories Write makes and removes.
const StagingPrefix, StagingSuffix = stagingPrefix, stagingSuffix
