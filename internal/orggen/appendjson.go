package orggen

// Hand-written appenders for the hot path. The generator builds every
// record by appending to a reused []byte: encoding/json would cost more
// than the whole budget of a record (a 10M-event day in under a minute on
// two cores is about 10 µs per event, gzip included).

const (
	hexDigits   = "0123456789abcdef"
	alnumChars  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	upperAlnum  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	// keyIDChars are the characters of the random part of AWS access key
	// ids (AKIA..., ASIA...): upper-case letters and the digits 2-7.
	keyIDChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

// appendJSONString appends s as a JSON string. Generated values are plain
// ASCII; the escape path exists for names that come from flags.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendInt appends the decimal form of n.
func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// appendPad2 appends n (0..99) as two digits.
func appendPad2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// appendPad4 appends n (0..9999) as four digits.
func appendPad4(b []byte, n int) []byte {
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// civil is a UTC calendar time split into its fields.
type civil struct {
	year, month, day, hour, min, sec int
	weekday                          int // 0 = Sunday
}

// civilOf splits unix seconds into UTC calendar fields without time.Time
// (Howard Hinnant's days-from-civil inverse), which is several times
// faster than time.Unix(...).UTC().Date() on the hot path.
func civilOf(unix int64) civil {
	days := unix / 86400
	secs := unix % 86400
	if secs < 0 {
		secs += 86400
		days--
	}
	wd := (days + 4) % 7 // 1970-01-01 was a Thursday
	if wd < 0 {
		wd += 7
	}
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return civil{
		year: int(y), month: int(m), day: int(d),
		hour: int(secs / 3600), min: int(secs / 60 % 60), sec: int(secs % 60),
		weekday: int(wd),
	}
}

// appendISOTime appends unix seconds as CloudTrail writes times:
// 2026-06-01T13:04:05Z.
func appendISOTime(b []byte, unix int64) []byte {
	c := civilOf(unix)
	b = appendPad4(b, c.year)
	b = append(b, '-')
	b = appendPad2(b, c.month)
	b = append(b, '-')
	b = appendPad2(b, c.day)
	b = append(b, 'T')
	b = appendPad2(b, c.hour)
	b = append(b, ':')
	b = appendPad2(b, c.min)
	b = append(b, ':')
	b = appendPad2(b, c.sec)
	return append(b, 'Z')
}

// appendKeyTime appends the minute-resolution time used in delivery object
// names: 20260601T1305Z.
func appendKeyTime(b []byte, unix int64) []byte {
	c := civilOf(unix)
	b = appendPad4(b, c.year)
	b = appendPad2(b, c.month)
	b = appendPad2(b, c.day)
	b = append(b, 'T')
	b = appendPad2(b, c.hour)
	b = appendPad2(b, c.min)
	return append(b, 'Z')
}

// appendDatePath appends the YYYY/MM/DD folder of a delivery key.
func appendDatePath(b []byte, unix int64) []byte {
	c := civilOf(unix)
	b = appendPad4(b, c.year)
	b = append(b, '/')
	b = appendPad2(b, c.month)
	b = append(b, '/')
	return appendPad2(b, c.day)
}

var monthAbbr = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendSTSTime appends a time the way STS responses show a credential
// expiration in CloudTrail: "Jun 1, 2026, 2:04:05 PM".
func appendSTSTime(b []byte, unix int64) []byte {
	c := civilOf(unix)
	b = append(b, monthAbbr[c.month-1]...)
	b = append(b, ' ')
	b = appendInt(b, int64(c.day))
	b = append(b, ", "...)
	b = appendInt(b, int64(c.year))
	b = append(b, ", "...)
	h := c.hour % 12
	if h == 0 {
		h = 12
	}
	b = appendInt(b, int64(h))
	b = append(b, ':')
	b = appendPad2(b, c.min)
	b = append(b, ':')
	b = appendPad2(b, c.sec)
	if c.hour < 12 {
		return append(b, " AM"...)
	}
	return append(b, " PM"...)
}

// appendUUID appends a random version-4 UUID.
func appendUUID(b []byte, r *rng) []byte {
	hi, lo := r.u64(), r.u64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var u [36]byte
	j := 0
	for i := 0; i < 16; i++ {
		var v byte
		if i < 8 {
			v = byte(hi >> (56 - 8*i))
		} else {
			v = byte(lo >> (56 - 8*(i-8)))
		}
		if i == 4 || i == 6 || i == 8 || i == 10 {
			u[j] = '-'
			j++
		}
		u[j], u[j+1] = hexDigits[v>>4], hexDigits[v&0xf]
		j += 2
	}
	return append(b, u[:]...)
}

// appendRandom appends n characters drawn from alphabet, whose length must
// be a power of two no larger than 64.
func appendRandom(b []byte, r *rng, n int, alphabet string) []byte {
	mask := uint64(len(alphabet) - 1)
	shift := 0
	for 1<<shift < len(alphabet) {
		shift++
	}
	var x uint64
	left := 0
	for i := 0; i < n; i++ {
		if left < shift {
			x, left = r.u64(), 64
		}
		b = append(b, alphabet[x&mask])
		x >>= shift
		left -= shift
	}
	return b
}

// appendAlnum appends n characters of [0-9A-Za-z] (62 symbols, so not
// through appendRandom's power-of-two fast path).
func appendAlnum(b []byte, r *rng, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, alnumChars[r.intn(len(alnumChars))])
	}
	return b
}

// appendUpperAlnum appends n characters of [0-9A-Z], the shape of an S3
// request id.
func appendUpperAlnum(b []byte, r *rng, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, upperAlnum[r.intn(len(upperAlnum))])
	}
	return b
}

// randString returns n characters of alphabet (a power-of-two length).
func randString(r *rng, n int, alphabet string) string {
	return string(appendRandom(make([]byte, 0, n), r, n, alphabet))
}
