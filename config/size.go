package config

import (
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes. In YAML it is a plain number of bytes or a
// number with a unit: "512KiB", "10MiB", "1GiB", or the decimal "500kB",
// "10MB", "1GB".
type ByteSize int64

// sizeUnits maps the units ByteSize accepts to their number of bytes.
var sizeUnits = map[string]int64{
	"B":   1,
	"kB":  1000,
	"KB":  1000,
	"MB":  1000 * 1000,
	"GB":  1000 * 1000 * 1000,
	"KiB": 1 << 10,
	"MiB": 1 << 20,
	"GiB": 1 << 30,
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *ByteSize) UnmarshalText(text []byte) error {
	str := strings.TrimSpace(string(text))
	i := strings.IndexFunc(str, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := str, "B"
	if i >= 0 {
		num, unit = str[:i], strings.TrimSpace(str[i:])
	}
	mult, ok := sizeUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return fmt.Errorf("size %q does not parse; write a number of bytes or a number with a unit, as in \"10MiB\" (units: B, kB, MB, GB, KiB, MiB, GiB)", str)
	}
	*s = ByteSize(f * float64(mult))
	return nil
}

// MarshalText implements encoding.TextMarshaler: the number of bytes.
func (s ByteSize) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatInt(int64(s), 10)), nil
}
