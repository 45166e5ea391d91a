package ecs

import (
	"errors"
	"fmt"
	"time"
)

// ErrTimestamp is the cause of every ParseTimestamp error.
var ErrTimestamp = errors.New("invalid timestamp")

// ParseTimestamp parses an ECS @timestamp: RFC 3339 / ISO 8601 date-times
// ("2023-06-13T14:29:11.525Z", "2023-06-13T14:29:11+02:00",
// "2023-06-13 14:29:11,5", "2023-06-13T14:29:11.525+0200",
// "2023-06-13T14:29"), with or without fractional seconds (up to
// nanoseconds; further digits are truncated) and zone (none means UTC),
// a bare date ("2023-06-13", midnight UTC), or epoch milliseconds
// ("1686666551525", also with a fraction or a sign). Results are in UTC.
// It does not allocate unless it fails.
func ParseTimestamp(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, fmt.Errorf("%w: empty", ErrTimestamp)
	}
	if len(b) >= 5 && b[4] == '-' {
		if t, ok := parseISO(b); ok {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("%w: %q is not an RFC 3339 / ISO 8601 date-time", ErrTimestamp, b)
	}
	if t, ok := parseEpochMillis(b); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %q is neither a date-time nor epoch milliseconds", ErrTimestamp, b)
}

// Time parses the value as an @timestamp (see ParseTimestamp): a string
// date-time or epoch milliseconds as a number or a string.
func (v Value) Time() (time.Time, error) {
	if v.Kind != String && v.Kind != Number {
		return time.Time{}, fmt.Errorf("%w: %s value", ErrTimestamp, v.Kind)
	}
	return ParseTimestamp(v.Str)
}

// digits parses n decimal digits at b[i:].
func digits(b []byte, i, n int) (int, bool) {
	if i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func parseISO(b []byte) (time.Time, bool) {
	year, ok1 := digits(b, 0, 4)
	month, ok2 := digits(b, 5, 2)
	day, ok3 := digits(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || b[7] != '-' {
		return time.Time{}, false
	}
	var hour, min, sec, nsec int
	i := 10
	if i < len(b) {
		if c := b[i]; c != 'T' && c != 't' && c != ' ' {
			return time.Time{}, false
		}
		var ok4, ok5 bool
		hour, ok4 = digits(b, i+1, 2)
		min, ok5 = digits(b, i+4, 2)
		if !ok4 || !ok5 || b[i+3] != ':' {
			return time.Time{}, false
		}
		i += 6
		if i < len(b) && b[i] == ':' {
			var ok bool
			if sec, ok = digits(b, i+1, 2); !ok {
				return time.Time{}, false
			}
			i += 3
			if i < len(b) && (b[i] == '.' || b[i] == ',') {
				i++
				start := i
				scale := 100000000
				for i < len(b) && '0' <= b[i] && b[i] <= '9' {
					nsec += int(b[i]-'0') * scale
					scale /= 10
					i++
				}
				if i == start {
					return time.Time{}, false
				}
			}
		}
	}
	offset := 0
	if i < len(b) {
		switch b[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if b[i] == '-' {
				sign = -1
			}
			oh, ok := digits(b, i+1, 2)
			if !ok {
				return time.Time{}, false
			}
			i += 3
			om := 0
			if i < len(b) {
				if b[i] == ':' {
					i++
				}
				if om, ok = digits(b, i, 2); !ok {
					return time.Time{}, false
				}
				i += 2
			}
			if oh > 23 || om > 59 {
				return time.Time{}, false
			}
			offset = sign * (oh*3600 + om*60)
		default:
			return time.Time{}, false
		}
	}
	if i != len(b) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseEpochMillis parses [-]digits[.digits] as milliseconds since the
// Unix epoch.
func parseEpochMillis(b []byte) (time.Time, bool) {
	i, neg := 0, false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i++
	}
	start := i
	var ms int64
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		if i-start >= 16 { // beyond ~317,000 years
			return time.Time{}, false
		}
		ms = ms*10 + int64(b[i]-'0')
		i++
	}
	if i == start {
		return time.Time{}, false
	}
	var ns int64
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		scale := int64(100000)
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			ns += int64(b[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == fs {
			return time.Time{}, false
		}
	}
	if i != len(b) {
		return time.Time{}, false
	}
	// Seconds and nanoseconds stay exact beyond time.Duration's range.
	sec, rem := ms/1000, (ms%1000)*int64(time.Millisecond)+ns
	if neg {
		sec, rem = -sec, -rem
	}
	return time.Unix(sec, rem).UTC(), true
}
