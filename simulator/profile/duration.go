package profile

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
)

// Duration is a time.Duration that reads and writes as text ("90s", "1h30m").
// It also takes whole days ("7d", "90d", "1d12h"), since provider lifetimes
// are documented in days and 2160h is no way to write 90 days.
type Duration time.Duration

// maxDays is the most whole days a time.Duration holds.
const maxDays = uint64(math.MaxInt64 / int64(24*time.Hour))

// ParseDuration reads a Go duration with an optional leading number of days.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: the days before 'd' must be a whole number", s)
		}
		if n > maxDays {
			return 0, fmt.Errorf("invalid duration %q: at most %dd (about 292 years)", s, maxDays)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return Duration(days), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use forms like 90s, 10m, 1h, 7d", s)
	}
	if days > 0 && d < 0 {
		return 0, fmt.Errorf("invalid duration %q: days cannot be followed by a negative part", s)
	}
	if d > math.MaxInt64-days {
		return 0, fmt.Errorf("invalid duration %q: longer than about 292 years", s)
	}
	return Duration(days + d), nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String renders the duration, in days when it is a whole number of them.
func (d Duration) String() string {
	const day = 24 * time.Hour
	td := time.Duration(d)
	if td >= day && td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	return td.String()
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalYAML implements yaml.Unmarshaler so that a bad duration in a file
// is reported with its line and column, which UnmarshalText cannot know.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("a duration is one value, e.g. 90s, 10m, 1h or 7d")
	}
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		// yaml places the error at n, and goes on to report the rest of the file.
		return err
	}
	return nil
}

// YAMLShape says that a duration is written as one word, for the messages
// about a file that writes a list or a mapping in its place.
func (Duration) YAMLShape() yamldoc.Shape {
	return yamldoc.Shape{Kinds: []yaml.Kind{yaml.ScalarNode}, Want: "a duration (forms like 90s, 10m, 1h, 7d)", Example: "90s"}
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
