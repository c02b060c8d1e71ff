package reports

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// reportFiles are the files Write produces and the writer of each.
var reportFiles = []struct {
	name  string
	write func(io.Writer, *Results) error
}{
	{"results.json", WriteJSON},
	{"junit.xml", WriteJUnit},
	{"index.html", WriteHTML},
	{"summary.md", WriteMarkdown},
}

// Write writes results.json, junit.xml, index.html and summary.md into dir,
// creating it if needed and replacing files of an earlier run. Each file is
// replaced whole, so a CI step or browser reading the directory while
// oauthsim writes it sees the old report or the new one, never half of one.
func Write(dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	for _, f := range reportFiles {
		path := filepath.Join(dir, f.name)
		if err := replaceFile(path, func(w io.Writer) error { return f.write(w, r) }); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// replaceFile writes a temporary file next to path and renames it over
// path once it is complete and synced; on any failure it removes the
// temporary file and leaves path as it was. The directory itself is not
// synced: a crash may lose the new report but cannot leave a torn one.
func replaceFile(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := bufio.NewWriterSize(tmp, 64<<10)
	if err := write(buf); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	// CreateTemp makes the file private; reports are meant to be shared,
	// e.g. uploaded as CI artifacts or served.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
