package kustomize

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Flux substitutes variables with its fork of drone/envsubst; this is a parser written for the
// same language, evaluated in one pass:
//
//	${var}                        the value; "" when unset (an error in strict mode)
//	${var:=w} ${var:-w}           w when var is unset or empty; so are ${var=w} ${var-w},
//	${var=w} ${var-w}             ${var:?w} ${var?w} ${var:+w} ${var+w}, as in Flux (not bash)
//	${#var}                       the length, in characters
//	${var:offset} ${var:o:len}    a substring, in characters; a negative offset counts from the end
//	${var/p/r} ${var//p/r}        the first (every) occurrence of p replaced by r; \/ is a literal /
//	${var/#p/r} ${var/%p/r}       p replaced at the start (the end) only
//	${var#g} ${var##g}            the shortest (longest) prefix matching the glob g removed
//	${var%g} ${var%%g}            the same for a suffix
//	${var^} ${var^^}              the first character, or all, in upper case
//	${var,} ${var,,}              the same in lower case
//	$$                            a literal $, so $${var} is the literal ${var}
//
// Words (w, p, r, g, offsets) may hold ${...} expressions. $var without braces is left as it is,
// as in Flux, whose documentation tells users to write it that way in scripts. A word after a
// default operator is evaluated only when it is used, so strict mode does not require the
// variables of a default that is not taken.

// maxNesting bounds how deep ${...} may nest inside words, so that input cannot exhaust the stack.
const maxNesting = 64

// expander evaluates the expressions of one text.
type expander struct {
	src    string
	pos    int
	start  int // where the top-level expression being read starts, for messages
	vars   map[string]string
	strict bool
}

// syntaxError is an expression that does not parse.
type syntaxError struct{ expr, msg string }

func (e *syntaxError) Error() string {
	return fmt.Sprintf("bad substitution '%s': %s; write a literal ${ as $${, or label or annotate the object "+
		"kustomize.toolkit.fluxcd.io/substitute: disabled", e.expr, e.msg)
}

// unsetError is a variable that strict mode requires.
type unsetError struct{ name string }

func (e *unsetError) Error() string {
	return fmt.Sprintf("variable not set (strict mode): %s: define it in spec.postBuild.substitute or substituteFrom, "+
		"or give it a default with ${%s:=value}", e.name, e.name)
}

// expand returns text with its expressions evaluated against vars.
func expand(text string, vars map[string]string, strict bool) (string, error) {
	if strings.IndexByte(text, '$') < 0 {
		return text, nil
	}
	e := &expander{src: text, vars: vars, strict: strict}
	var b strings.Builder
	b.Grow(len(text))
	for e.pos < len(e.src) {
		i := strings.IndexByte(e.src[e.pos:], '$')
		if i < 0 {
			b.WriteString(e.src[e.pos:])
			break
		}
		b.WriteString(e.src[e.pos : e.pos+i])
		e.pos += i
		switch e.at(1) {
		case '$':
			b.WriteByte('$')
			e.pos += 2
		case '{':
			e.start = e.pos
			e.pos += 2
			v, err := e.expr(true, 0)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		default:
			b.WriteByte('$')
			e.pos++
		}
	}
	return b.String(), nil
}

// at returns the byte at e.pos+off, or 0 past the end.
func (e *expander) at(off int) byte {
	if i := e.pos + off; i < len(e.src) {
		return e.src[i]
	}
	return 0
}

func (e *expander) fail(format string, args ...any) error {
	end := min(len(e.src), e.pos+1)
	expr := e.src[e.start:end]
	if len(expr) > 60 {
		expr = expr[:57] + "..."
	}
	return &syntaxError{expr: expr, msg: fmt.Sprintf(format, args...)}
}

// consume reads c, or fails.
func (e *expander) consume(c byte) error {
	if e.at(0) != c {
		if e.pos >= len(e.src) {
			return e.fail("missing closing '%c'", c)
		}
		return e.fail("expected '%c', found '%c'", c, e.at(0))
	}
	e.pos++
	return nil
}

// name reads a variable name: letters, digits and underscores, as Flux's parser reads them.
func (e *expander) name() string {
	start := e.pos
	for e.pos < len(e.src) {
		r, size := utf8.DecodeRuneInString(e.src[e.pos:])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		e.pos += size
	}
	return e.src[start:e.pos]
}

// value returns the value of name, or fails in strict mode when it is not set. Nothing is looked
// up when the expression is not evaluated.
func (e *expander) value(name string, eval bool) (string, error) {
	if !eval {
		return "", nil
	}
	v, ok := e.vars[name]
	if !ok && e.strict {
		return "", &unsetError{name: name}
	}
	return v, nil
}

// expr reads an expression after its "${", through its closing brace, and returns its value
// (nothing when eval is false: the expression is only read).
func (e *expander) expr(eval bool, depth int) (string, error) {
	if depth > maxNesting {
		return "", e.fail("expressions nest more than %d deep", maxNesting)
	}
	if e.at(0) == '#' {
		return e.length(eval)
	}
	name := e.name()
	if name == "" {
		return "", e.fail("a variable name (letters, digits, underscores) must follow ${")
	}
	switch c := e.at(0); {
	case c == '}':
		e.pos++
		return e.value(name, eval)
	case c == ':' && strings.IndexByte("=-?+", e.at(1)) >= 0:
		return e.defaulted(name, 2, eval, depth)
	case c == ':':
		return e.substring(name, eval, depth)
	case c == '=' || c == '-' || c == '?' || c == '+':
		return e.defaulted(name, 1, eval, depth)
	case c == '^' || c == ',':
		return e.casing(name, eval)
	case c == '/':
		return e.replace(name, eval, depth)
	case c == '#' || c == '%':
		return e.trim(name, eval, depth)
	case c == 0:
		return "", e.fail("missing closing '}'")
	default:
		return "", e.fail("unexpected '%c' after the variable name", c)
	}
}

// word reads up to one of stops (not consumed) and returns it evaluated. escapes makes \/ and \\
// literal / and \, as in the words of a replacement.
func (e *expander) word(eval bool, depth int, stops string, escapes bool) (string, error) {
	var b strings.Builder
	for e.pos < len(e.src) {
		c := e.src[e.pos]
		switch {
		case strings.IndexByte(stops, c) >= 0:
			return b.String(), nil
		case c == '$' && e.at(1) == '{':
			e.pos += 2
			v, err := e.expr(eval, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		case escapes && c == '\\' && (e.at(1) == '/' || e.at(1) == '\\'):
			b.WriteByte(e.at(1))
			e.pos += 2
		default:
			b.WriteByte(c)
			e.pos++
		}
	}
	return b.String(), nil
}

// length reads ${#var}.
func (e *expander) length(eval bool) (string, error) {
	e.pos++
	name := e.name()
	if name == "" {
		return "", e.fail("a variable name must follow ${#")
	}
	if err := e.consume('}'); err != nil {
		return "", err
	}
	v, err := e.value(name, eval)
	if err != nil || !eval {
		return "", err
	}
	return strconv.Itoa(utf8.RuneCountInString(v)), nil
}

// defaulted reads ${var:=word} and the other default operators, opLen bytes long. Flux gives
// them all one meaning: the word when the variable is unset or empty.
func (e *expander) defaulted(name string, opLen int, eval bool, depth int) (string, error) {
	e.pos += opLen
	v := ""
	if eval {
		v = e.vars[name]
	}
	w, err := e.word(eval && v == "", depth, "}", false)
	if err != nil {
		return "", err
	}
	if err := e.consume('}'); err != nil {
		return "", err
	}
	if v == "" {
		return w, nil
	}
	return v, nil
}

// substring reads ${var:offset} and ${var:offset:length}.
func (e *expander) substring(name string, eval bool, depth int) (string, error) {
	e.pos++
	offset, err := e.word(eval, depth, ":}", false)
	if err != nil {
		return "", err
	}
	length, hasLength := "", false
	if e.at(0) == ':' {
		e.pos++
		hasLength = true
		if length, err = e.word(eval, depth, "}", false); err != nil {
			return "", err
		}
	}
	if err := e.consume('}'); err != nil {
		return "", err
	}
	v, err := e.value(name, eval)
	if err != nil || !eval {
		return "", err
	}
	return substr(v, offset, length, hasLength), nil
}

// casing reads ${var^}, ${var^^}, ${var,} and ${var,,}.
func (e *expander) casing(name string, eval bool) (string, error) {
	op := e.src[e.pos : e.pos+1]
	e.pos++
	if e.at(0) == op[0] {
		op += op
		e.pos++
	}
	if err := e.consume('}'); err != nil {
		return "", err
	}
	v, err := e.value(name, eval)
	if err != nil || !eval || v == "" {
		return v, err
	}
	switch op {
	case "^^":
		return strings.ToUpper(v), nil
	case ",,":
		return strings.ToLower(v), nil
	}
	first, size := utf8.DecodeRuneInString(v)
	if op == "^" {
		return string(unicode.ToUpper(first)) + v[size:], nil
	}
	return string(unicode.ToLower(first)) + v[size:], nil
}

// replace reads ${var/pattern/replacement} and its //, /# and /% forms; the replacement and its
// slash may be left out, to delete the pattern. Patterns are literal strings, as in Flux.
func (e *expander) replace(name string, eval bool, depth int) (string, error) {
	e.pos++
	mode := byte('1') // the first occurrence
	if c := e.at(0); c == '/' || c == '#' || c == '%' {
		mode = c
		e.pos++
	}
	pattern, err := e.word(eval, depth, "/}", true)
	if err != nil {
		return "", err
	}
	replacement := ""
	if e.at(0) == '/' {
		e.pos++
		if replacement, err = e.word(eval, depth, "}", true); err != nil {
			return "", err
		}
	}
	if err := e.consume('}'); err != nil {
		return "", err
	}
	v, err := e.value(name, eval)
	if err != nil || !eval {
		return "", err
	}
	return replaced(v, mode, pattern, replacement), nil
}

// trim reads ${var#glob}, ${var##glob}, ${var%glob} and ${var%%glob}.
func (e *expander) trim(name string, eval bool, depth int) (string, error) {
	op := e.src[e.pos]
	e.pos++
	longest := e.at(0) == op
	if longest {
		e.pos++
	}
	pattern, err := e.word(eval, depth, "}", false)
	if err != nil {
		return "", err
	}
	if err := e.consume('}'); err != nil {
		return "", err
	}
	v, err := e.value(name, eval)
	if err != nil || !eval {
		return "", err
	}
	if op == '#' {
		return trimPrefix(v, pattern, longest), nil
	}
	return trimSuffix(v, pattern, longest), nil
}
