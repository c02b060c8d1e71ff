package profile

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
)

// data holds the built-in profiles, one document a file, named after the
// profile. They are data rather than Go so that the source of each value
// sits next to it where QA can read and check it.
//
//go:embed data/*.yaml
var data embed.FS

// builtins parses the built-in profiles once. A broken data file is a bug
// in this program, which the package's specs catch, so it panics.
var builtins = sync.OnceValue(func() map[string]Profile {
	profiles, err := loadBuiltins(data)
	if err != nil {
		panic(fmt.Sprintf("built-in profiles: %v", err))
	}
	return profiles
})

// loadBuiltins parses every data/*.yaml of fsys, each after the profile its
// base key names.
func loadBuiltins(fsys fs.FS) (map[string]Profile, error) {
	files, err := fs.Glob(fsys, "data/*.yaml")
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	for _, f := range files {
		docs[strings.TrimSuffix(path.Base(f), ".yaml")] = f
	}
	done := map[string]Profile{}
	loading := map[string]bool{}
	var get func(name string) (Profile, error)
	get = func(name string) (Profile, error) {
		if p, ok := done[name]; ok {
			return p.Clone(), nil
		}
		file, ok := docs[name]
		if !ok {
			return Profile{}, unknown(name, slices.Sorted(maps.Keys(docs)))
		}
		if loading[name] {
			return Profile{}, fmt.Errorf("profile %q inherits from itself", name)
		}
		loading[name] = true
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return Profile{}, err
		}
		p, err := parse(file, b, get)
		if err != nil {
			return Profile{}, err
		}
		if p.Name != name {
			return Profile{}, fmt.Errorf("%s: name %q differs from the file's name", file, p.Name)
		}
		done[name] = p
		return p.Clone(), nil
	}
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		if _, err := get(name); err != nil {
			return nil, err
		}
	}
	return done, nil
}

// Lookup returns the built-in profile called name. The profile is the
// caller's own copy.
func Lookup(name string) (Profile, bool) {
	p, ok := builtins()[name]
	return p.Clone(), ok
}

// Builtin is Lookup with an error for an unknown name that lists the
// known ones, for messages to users.
func Builtin(name string) (Profile, error) {
	if p, ok := Lookup(name); ok {
		return p, nil
	}
	return Profile{}, unknown(name, Names())
}

func unknown(name string, names []string) error {
	return fmt.Errorf("no built-in profile %q (built in: %s)", name, strings.Join(names, ", "))
}

// Names lists the built-in profiles, sorted.
func Names() []string { return slices.Sorted(maps.Keys(builtins())) }

// Generic is the RFC-strict default: one-hour access tokens, ten-minute
// codes, refresh tokens through the offline_access scope, and rotation with
// strict reuse detection as RFC 9700 §4.14.2 describes.
func Generic() Profile {
	p, _ := Lookup("generic")
	return p
}
