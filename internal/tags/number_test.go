package tags

import (
	"cmp"
	"math"
	"strconv"
	"strings"
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

// checkDecimalKeys checks that a and b have keys exactly when they are 1 to
// 15 ASCII digits, and that keys order as ParseFloat's values do.
func checkDecimalKeys(t *testing.T, a, b string) {
	t.Helper()
	isKey := func(s string) bool {
		return len(s) >= 1 && len(s) <= 15 && strings.Trim(s, "0123456789") == ""
	}
	ahi, alo, aok := decimalKey(a)
	bhi, blo, bok := decimalKey(b)
	if aok != isKey(a) || bok != isKey(b) {
		t.Fatalf("decimalKey(%q) ok = %v, decimalKey(%q) ok = %v", a, aok, b, bok)
	}
	if !aok || !bok {
		return
	}
	x, _ := strconv.ParseFloat(a, 64)
	y, _ := strconv.ParseFloat(b, 64)
	got := cmp.Or(cmp.Compare(ahi, bhi), cmp.Compare(alo, blo))
	if want := cmp.Compare(x, y); got != want {
		t.Fatalf("keys of %q and %q compare %d, their values %d", a, b, got, want)
	}
}

func TestDecimalKey(t *testing.T) {
	values := []string{
		"0", "00", "000000000000000", "1", "01", "9", "10", "99999999", "099999999", "100000000",
		"1606234201", "01606234201", "1606234202", "999999999999999", "0999999999999999",
		"1000000000000000", "", "-1", "+1", "1.0", "1e3", "12345678/", "/12345678", "1234567:",
		":1234567", "123456789a", "a", "1\xb0", "\x0012345678", "NaN",
	}
	for _, a := range values {
		for _, b := range values {
			checkDecimalKeys(t, a, b)
		}
	}
}

func FuzzDecimalKey(f *testing.F) {
	f.Add("1606234201", "0999999999999999")
	f.Add("7", "00000007")
	f.Add("12345678", "123456789")
	f.Fuzz(checkDecimalKeys)
}
