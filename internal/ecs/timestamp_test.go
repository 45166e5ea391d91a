package ecs

import (
	"errors"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2023-06-13T14:29:11.525Z", utc(2023, 6, 13, 14, 29, 11, 525e6)},
		{"2023-06-13T14:29:11Z", utc(2023, 6, 13, 14, 29, 11, 0)},
		{"2023-06-13t14:29:11z", utc(2023, 6, 13, 14, 29, 11, 0)},
		{"2023-06-13T14:29:11.123456789Z", utc(2023, 6, 13, 14, 29, 11, 123456789)},
		{"2023-06-13T14:29:11.1234567891234Z", utc(2023, 6, 13, 14, 29, 11, 123456789)},
		{"2023-06-13T14:29:11.5", utc(2023, 6, 13, 14, 29, 11, 5e8)},
		{"2023-06-13T14:29:11", utc(2023, 6, 13, 14, 29, 11, 0)},
		{"2023-06-13 14:29:11,25", utc(2023, 6, 13, 14, 29, 11, 25e7)},
		{"2023-06-13T16:29:11+02:00", utc(2023, 6, 13, 14, 29, 11, 0)},
		{"2023-06-13T16:29:11.525+0200", utc(2023, 6, 13, 14, 29, 11, 525e6)},
		{"2023-06-13T09:59:11-04:30", utc(2023, 6, 13, 14, 29, 11, 0)},
		{"2023-06-13T16:29:11+02", utc(2023, 6, 13, 14, 29, 11, 0)},
		{"2023-06-13T14:29", utc(2023, 6, 13, 14, 29, 0, 0)},
		{"2023-06-13T00:30:00+01:00", utc(2023, 6, 12, 23, 30, 0, 0)},
		{"2023-06-13", utc(2023, 6, 13, 0, 0, 0, 0)},
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"1686666551525", utc(2023, 6, 13, 14, 29, 11, 525e6)},
		{"1686666551525.5", utc(2023, 6, 13, 14, 29, 11, 525500000)},
		{"0", time.Unix(0, 0).UTC()},
		{"-1500", time.Unix(-1, -5e8).UTC()},
	} {
		got, err := ParseTimestamp([]byte(tc.in))
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if want, err := time.Parse(time.RFC3339Nano, tc.in); err == nil && !want.Equal(got) {
			t.Errorf("ParseTimestamp(%q) = %v, time.Parse gives %v", tc.in, got, want)
		}
	}
	for _, in := range []string{
		"", "x", "2023-06", "2023-13-01", "2023-02-29", "2023-06-31T00:00:00Z", "2023-06-13T24:00:00Z",
		"2023-06-13T14:60:00Z", "2023-06-13T14:29:61Z", "2023-06-13T14:29:11.Z", "2023-06-13T14:29:11+2:00",
		"2023-06-13T14:29:11+25:00", "2023-06-13T14:29:11 Z", "2023-06-13X14:29:11", "2023/06/13 14:29:11",
		"1686666551525x", "1.5.5", "--1", "1e3", "12345678901234567890", "2023-06-13T14:29:11ZZ",
	} {
		if got, err := ParseTimestamp([]byte(in)); !errors.Is(err, ErrTimestamp) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want an ErrTimestamp error", in, got, err)
		}
	}
}

func TestValueTime(t *testing.T) {
	want := time.Date(2023, 6, 13, 14, 29, 11, 525e6, time.UTC)
	for _, v := range []Value{{Kind: String, Str: []byte("2023-06-13T14:29:11.525Z")}, {Kind: Number, Str: []byte("1686666551525")}, {Kind: String, Str: []byte("1686666551525")}} {
		if got, err := v.Time(); err != nil || !got.Equal(want) {
			t.Errorf("%s.Time() = %v, %v", v, got, err)
		}
	}
	if _, err := (Value{Kind: Bool, Bool: true}).Time(); !errors.Is(err, ErrTimestamp) {
		t.Errorf("bool Time(): %v", err)
	}
}

func TestParseTimestampNoAllocs(t *testing.T) {
	in := []byte("2023-06-13T16:29:11.525+02:00")
	if n := testing.AllocsPerRun(100, func() { ParseTimestamp(in) }); n != 0 {
		t.Errorf("ParseTimestamp allocates %v times", n)
	}
}
