//go:build unix

package reports

import (
	"errors"
	"os"
	"syscall"
)

// hold locks the directory at path until release is called. The lock
// goes with the process, however it ends: a kill -9 leaves no stale lock.
func hold(path string) (release func(), err error) {
	return lock(path, syscall.LOCK_EX)
}

// abandoned reports whether nobody holds the directory at path; when it
// says so, it holds it until release is called.
func abandoned(path string) (release func(), ok bool) {
	release, err := lock(path, syscall.LOCK_EX|syscall.LOCK_NB)
	return release, err == nil
}

func lock(path string, how int) (func(), error) {
	d, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(d.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return func() { d.Close() }, nil
}
