package tags

import (
	"math"
	"strconv"
	"testing"
)

func TestParseNumber(t *testing.T) {
	for _, s := range []string{
		"0", "7", "-0", "+5", "12345678", "123456789", "1606234201", "00000000001",
		"9999999999999999999", "10000000000000000000", "18446744073709551616",
		"9007199254740993", "1.5", "-2.5e3", "1e400", "inf", "-Inf", "NaN", "0x1p-2",
		"1_000", "", "-", "+", "1a", "12345678a", "1234567:", "/2345678", "１２",
	} {
		got, ok := parseNumber(s)
		want, err := strconv.ParseFloat(s, 64)
		if ok != (err == nil) || ok && !(got == want || math.IsNaN(got) && math.IsNaN(want)) || ok && math.Signbit(got) != math.Signbit(want) {
			t.Errorf("parseNumber(%q) = %v, %v; ParseFloat = %v, %v", s, got, ok, want, err)
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1606234201", "-12345678", "99999999999999999999", "1.5e3", "12345678\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseNumber(s)
		want, err := strconv.ParseFloat(s, 64)
		if ok != (err == nil) {
			t.Fatalf("parseNumber(%q) ok = %v, ParseFloat error %v", s, ok, err)
		}
		if ok && !(got == want && math.Signbit(got) == math.Signbit(want) || math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("parseNumber(%q) = %v, ParseFloat %v", s, got, want)
		}
	})
}
