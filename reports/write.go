package reports

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// reportFiles are the files Write produces, in the order it moves them
// into place, each with its writer and the text its opening holds: a file
// of that name without it is not oauthsim's, and Write leaves it alone.
// results.json moves last: a results.json of the new run means a whole set
// of the new run.
var reportFiles = []struct {
	name  string
	write func(io.Writer, *Results, *rendering) error
	mark  string
}{
	{"summary.md", alone(WriteMarkdown), "## oauthsim conformance"},
	{"junit.xml", alone(WriteJUnit), `<testsuites name="oauthsim conform"`},
	{RunDataFile, func(w io.Writer, _ *Results, v *rendering) error { return v.writeRunData(w) }, runDataMark},
	{"index.html", func(w io.Writer, _ *Results, v *rendering) error { return v.writePage(w) }, "<title>oauthsim conformance"},
	{"results.json", alone(WriteJSON), `"schema_version"`},
}

// alone adapts the writer of a report that shares nothing with the others.
func alone(write func(io.Writer, *Results) error) func(io.Writer, *Results, *rendering) error {
	return func(w io.Writer, r *Results, _ *rendering) error { return write(w, r) }
}

// IncompleteFile is the file Write leaves in the directory while it moves
// a set of reports into place, and removes once all are: found after
// Write, it says the reports there are from two runs (oauthsim was killed
// while it moved them) and which are which. The next Write replaces them
// all and removes it.
const IncompleteFile = "oauthsim-incomplete.txt"

// A set of reports is written into a staging directory in the reports'
// directory (a rename does not cross file systems), hidden and named so
// that nobody takes it for reports, then moved into place. One whose
// writer was killed is removed by the next Write.
const (
	stagingPrefix = ".oauthsim-staging-"
	stagingSuffix = ".tmp"
)

// rename is os.Rename; specs make it fail between two reports.
var rename = os.Rename

// oldTemporary matches the temporary files of oauthsim versions that
// replaced the reports one by one: one killed while writing left its file.
var oldTemporary = regexp.MustCompile(`^\.(summary\.md|junit\.xml|index\.html|index-runs\.js|results\.json)\.[0-9]+\.tmp$`)

// Write writes results.json, junit.xml, index.html with its RunDataFile,
// and summary.md into dir,
// creating it if needed and replacing the reports of an earlier run as a
// set: it writes the new ones into a staging directory inside dir, then
// renames them into place. Killed while it writes, it leaves the earlier
// set as it was; killed while it renames (a few system calls), it leaves
// IncompleteFile to say so. Either way the next Write removes what it
// left. Other files in dir are the user's: Write refuses a dir where a
// report's name is taken by something oauthsim did not write (CheckDir),
// and removes nothing it did not write.
func Write(dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	if err := CheckDir(dir); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	stage, err := os.MkdirTemp(dir, stagingPrefix+"*"+stagingSuffix)
	if err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	// Held until the staging directory is gone: another Write that finds
	// it then knows its writer is alive.
	release, err := hold(stage)
	if err != nil {
		os.Remove(stage)
		return fmt.Errorf("write reports: %w", err)
	}
	defer func() {
		removeStaging(stage)
		release()
	}()
	html := &rendering{r: r}
	for _, f := range reportFiles {
		if err := writeFile(filepath.Join(stage, f.name), func(w io.Writer) error { return f.write(w, r, html) }); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	if err := syncDir(stage); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	return moveIntoPlace(dir, stage, r)
}

// CheckDir says whether dir can take the reports: each report's name in it
// must be free or hold a report oauthsim wrote, which Write replaces. A
// directory, a link or a file that does not open as that report does is
// the user's, and oauthsim does not overwrite it. A dir that does not
// exist yet is fine.
func CheckDir(dir string) error {
	for _, f := range reportFiles {
		path := filepath.Join(dir, f.name)
		info, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return err
		case !info.Mode().IsRegular():
			return fmt.Errorf("%s is in the way: it is not a file oauthsim wrote, and oauthsim does not replace it", path)
		}
		ok, err := opensWith(path, f.mark)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s is in the way: it is not a report oauthsim wrote, and oauthsim does not replace it", path)
		}
	}
	return nil
}

// opensWith reports whether the first KiB of the file at path holds mark.
func opensWith(path, mark string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return bytes.Contains(head[:n], []byte(mark)), nil
}

// moveIntoPlace renames the reports from stage into dir, with
// IncompleteFile in dir while it does. It first removes what Writes that
// were killed left in dir. The directory is locked meanwhile: two Writes
// into one directory move their sets one after the other.
func moveIntoPlace(dir, stage string, r *Results) error {
	release, err := hold(dir)
	if err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	defer release()
	removeLeftovers(dir)
	incomplete := filepath.Join(dir, IncompleteFile)
	var names []string
	for _, f := range reportFiles {
		names = append(names, f.name)
	}
	note := fmt.Sprintf("oauthsim conform was moving the reports of its run of %s into this directory, and stopped before it had moved them all:\n"+
		"they are from two runs. It moves %s in that order; those it had moved are of that run (results.json's started_at says which run it is of).\n"+
		"The next oauthsim conform with this --out replaces them all and removes this file.\n",
		r.StartedAt.UTC().Format(time.RFC3339), strings.Join(names, ", "))
	if err := writeFile(incomplete, func(w io.Writer) error { _, err := io.WriteString(w, note); return err }); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	for _, name := range names {
		if err := rename(filepath.Join(stage, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("write %s: %w (%s says which reports are of this run)", filepath.Join(dir, name), err, incomplete)
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	if err := os.Remove(incomplete); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	return syncDir(dir)
}

// removeLeftovers removes from dir the staging directories of Writes that
// were killed (none holds it any longer), and the temporary files of older
// versions. A staging directory that holds anything but reports stays.
func removeLeftovers(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && strings.HasPrefix(e.Name(), stagingPrefix) && strings.HasSuffix(e.Name(), stagingSuffix):
			if release, ok := abandoned(path); ok {
				removeStaging(path)
				release()
			}
		case e.Type().IsRegular() && oldTemporary.MatchString(e.Name()):
			os.Remove(path)
		}
	}
}

// removeStaging removes a staging directory and the reports in it, and
// nothing else: a directory that holds more stays.
func removeStaging(stage string) {
	for _, f := range reportFiles {
		os.Remove(filepath.Join(stage, f.name))
	}
	os.Remove(stage)
}

// writeFile writes path through write, synced, readable by all: reports
// are meant to be shared, e.g. uploaded as CI artifacts or served.
func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	buf := bufio.NewWriterSize(f, 64<<10)
	if err := write(buf); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	// The umask may have narrowed the mode.
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir makes the renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
