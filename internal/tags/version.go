package tags

// maxVersionLen is the longest tag Flux accepts as a version: Masterminds'
// limit, applied to the tag including its "v".
const maxVersionLen = 256

// version is a semantic version that refers into the string it was parsed
// from, so that parsing does not allocate. Build metadata is validated but
// not kept: it never affects precedence.
type version struct {
	major, minor, patch uint64
	pre                 string
}

// parseVersion accepts exactly what Flux's version.ParseVersion accepts:
// a strict SemVer 2.0 version (MAJOR.MINOR.PATCH, no leading zeros, optional
// -PRERELEASE and +BUILD) after removing one leading "v".
func parseVersion(s string) (version, bool) {
	var v version
	if len(s) > maxVersionLen {
		return v, false
	}
	if len(s) > 0 && s[0] == 'v' {
		s = s[1:]
	}
	var ok bool
	if v.major, s, ok = parseNumeric(s); !ok || len(s) == 0 || s[0] != '.' {
		return v, false
	}
	if v.minor, s, ok = parseNumeric(s[1:]); !ok || len(s) == 0 || s[0] != '.' {
		return v, false
	}
	if v.patch, s, ok = parseNumeric(s[1:]); !ok {
		return v, false
	}
	if len(s) > 0 && s[0] == '-' {
		end := 1
		for end < len(s) && s[end] != '+' {
			end++
		}
		v.pre = s[1:end]
		if !validIdentifiers(v.pre, true) {
			return v, false
		}
		s = s[end:]
	}
	if len(s) > 0 && s[0] == '+' {
		if !validIdentifiers(s[1:], false) {
			return v, false
		}
		s = ""
	}
	return v, s == ""
}

// parseNumeric reads a version number at the start of s: "0" or digits
// without a leading zero, fitting in a uint64. It returns the rest of s.
func parseNumeric(s string) (uint64, string, bool) {
	i := 0
	var n uint64
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, s, false
		}
		n = n*10 + d
		i++
	}
	if i == 0 || (i > 1 && s[0] == '0') {
		return 0, s, false
	}
	return n, s[i:], true
}

// validIdentifiers checks dot-separated identifiers: non-empty, made of
// [0-9A-Za-z-], and for a prerelease, numeric ones without a leading zero.
func validIdentifiers(s string, prerelease bool) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if !isIdentChar(s[i]) {
				return false
			}
			continue
		}
		id := s[start:i]
		if id == "" || (prerelease && len(id) > 1 && id[0] == '0' && allDigits(id)) {
			return false
		}
		start = i + 1
	}
	return true
}

func isIdentChar(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compare orders versions by SemVer precedence as Masterminds' Compare does:
// -1, 0 or +1.
func (v version) compare(o version) int {
	switch {
	case v.major != o.major:
		return cmpUint(v.major, o.major)
	case v.minor != o.minor:
		return cmpUint(v.minor, o.minor)
	case v.patch != o.patch:
		return cmpUint(v.patch, o.patch)
	case v.pre == o.pre:
		return 0
	case v.pre == "":
		return 1
	case o.pre == "":
		return -1
	}
	return comparePrerelease(v.pre, o.pre)
}

func cmpUint(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// comparePrerelease compares dot-separated identifiers one by one; a
// missing identifier ranks below a present one.
func comparePrerelease(a, b string) int {
	for a != "" || b != "" {
		var x, y string
		x, a = nextIdentifier(a)
		y, b = nextIdentifier(b)
		if d := compareIdentifier(x, y); d != 0 {
			return d
		}
	}
	return 0
}

func nextIdentifier(s string) (id, rest string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// compareIdentifier follows Masterminds: numbers (that fit a uint64) rank
// below other identifiers and compare by value; others compare as strings.
func compareIdentifier(s, o string) int {
	switch {
	case s == o:
		return 0
	case s == "":
		return -1
	case o == "":
		return 1
	}
	si, sNum := identifierNumber(s)
	oi, oNum := identifierNumber(o)
	switch {
	case !sNum && !oNum:
		if s > o {
			return 1
		}
		return -1
	case !oNum:
		return -1
	case !sNum:
		return 1
	case si > oi:
		return 1
	}
	return -1
}

// identifierNumber is strconv.ParseUint(s, 10, 64) without the error value.
func identifierNumber(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		d := uint64(s[i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
