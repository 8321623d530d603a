package netboxtest

import (
	"net/netip"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// enc appends JSON to a byte slice. Responses are written by hand, key by
// key, so the key order and the null-versus-absent choices match NetBox's
// serializers exactly and 100,000 devices render without reflection.
type enc struct {
	b    []byte
	only map[string]bool // top-level keys to keep (the fields= parameter); nil keeps all
}

// bufs recycles response buffers: a page of 1000 devices is a few
// megabytes, and reusing it keeps garbage collection, which scans the whole
// generated fleet, out of the per-page cost.
var bufs sync.Pool // of *[]byte

// newEnc returns an encoder over a recycled buffer of at least size bytes.
func newEnc(size int) *enc {
	if p, ok := bufs.Get().(*[]byte); ok && cap(*p) >= size {
		return &enc{b: (*p)[:0]}
	}
	return &enc{b: make([]byte, 0, size)}
}

// release hands a response body back for reuse once it has been written.
func release(b []byte) {
	if cap(b) <= 16<<20 {
		b = b[:0]
		bufs.Put(&b)
	}
}

// sep writes the comma that separates this member from the previous one.
func (e *enc) sep() {
	if n := len(e.b); n > 0 {
		switch e.b[n-1] {
		case '{', '[', ':':
		default:
			e.b = append(e.b, ',')
		}
	}
}

// k writes a key of a nested object.
func (e *enc) k(name string) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
}

// tk writes a key of a top-level object and reports whether its value should
// be written; keys left out by fields= are skipped.
func (e *enc) tk(name string) bool {
	if e.only != nil && !e.only[name] {
		return false
	}
	e.k(name)
	return true
}

func (e *enc) open()  { e.sep(); e.b = append(e.b, '{') }
func (e *enc) close() { e.b = append(e.b, '}') }
func (e *enc) openA() { e.sep(); e.b = append(e.b, '[') }
func (e *enc) closeA() {
	e.b = append(e.b, ']')
}
func (e *enc) null() { e.sep(); e.b = append(e.b, "null"...) }
func (e *enc) raw(s string) {
	e.sep()
	e.b = append(e.b, s...)
}

func (e *enc) bool(v bool) {
	e.sep()
	e.b = strconv.AppendBool(e.b, v)
}

func (e *enc) int(v int64) {
	e.sep()
	e.b = strconv.AppendInt(e.b, v, 10)
}

// float writes v the way Python renders a float: integral values keep ".0".
func (e *enc) float(v float64) {
	e.sep()
	s := len(e.b)
	e.b = strconv.AppendFloat(e.b, v, 'f', -1, 64)
	for _, c := range e.b[s:] {
		if c == '.' || c == 'e' {
			return
		}
	}
	e.b = append(e.b, '.', '0')
}

// str writes a JSON string.
func (e *enc) str(s string) {
	e.sep()
	e.b = appendString(e.b, s)
}

// url writes base + path + id + "/".
func (e *enc) url(base, path string, id int64) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = appendStringBody(e.b, base)
	e.b = append(e.b, path...)
	e.b = strconv.AppendInt(e.b, id, 10)
	e.b = append(e.b, '/', '"')
}

// prefix writes an address with its prefix length, e.g. "192.0.2.10/24".
func (e *enc) prefix(p netip.Prefix) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = p.AppendTo(e.b)
	e.b = append(e.b, '"')
}

// address writes an IP address as "<address>/<length>", with an impossible
// length for a malformed one.
func (e *enc) address(ip *ipAddr) {
	if !ip.malformed {
		e.prefix(ip.prefix)
		return
	}
	e.sep()
	e.b = append(e.b, '"')
	e.b = ip.prefix.Addr().AppendTo(e.b)
	e.b = append(e.b, "/"...)
	e.b = strconv.AppendInt(e.b, int64(ip.prefix.Addr().BitLen()+1), 10)
	e.b = append(e.b, '"')
}

// nstr writes s, or null when s is empty.
func (e *enc) nstr(s string) {
	if s == "" {
		e.null()
		return
	}
	e.str(s)
}

// time writes a timestamp as Django REST framework does (UTC, "Z").
func (e *enc) time(us int64) {
	if us == 0 {
		e.null()
		return
	}
	e.sep()
	e.b = append(e.b, '"')
	e.b = time.UnixMicro(us).UTC().AppendFormat(e.b, "2006-01-02T15:04:05.000000Z07:00")
	e.b = append(e.b, '"')
}

// choice writes a {"value","label"} choice object.
func (e *enc) choice(value, label string) {
	e.open()
	e.k("value")
	e.str(value)
	e.k("label")
	e.str(label)
	e.close()
}

// any writes a value of a custom field or config context.
func (e *enc) any(v any) {
	switch v := v.(type) {
	case nil:
		e.null()
	case string:
		e.str(v)
	case bool:
		e.bool(v)
	case int:
		e.int(int64(v))
	case int64:
		e.int(v)
	case float64:
		e.sep()
		e.b = strconv.AppendFloat(e.b, v, 'f', -1, 64)
	case []string:
		e.openA()
		for _, s := range v {
			e.str(s)
		}
		e.closeA()
	case []any:
		e.openA()
		for _, x := range v {
			e.any(x)
		}
		e.closeA()
	case map[string]any:
		e.open()
		for _, k := range sortedKeys(v) {
			e.k(k)
			e.any(v[k])
		}
		e.close()
	default:
		e.str("")
	}
}

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStringBody(b, s)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendStringBody escapes s for use inside a JSON string. Invalid UTF-8
// becomes U+FFFD, as encoding/json does.
func appendStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
