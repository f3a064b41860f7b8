package schemas

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The conformance tests prove that event.proto and detection.proto
// document the real wire format: they compile the .proto files with
// protocompile, read MarshalEvent's bytes with dynamicpb (the reference
// protobuf implementation, knowing nothing of this package) and compare
// field by field, then go the other way. A field added to the Go structs
// but not to the .proto, or numbered differently, fails here.
//
// Go fields map to proto fields by name: AccountID is account_id, a
// time.Time Time is time_unix_nano; protoNameOverrides lists the names
// that the mechanical rule gets wrong.

// protoNameOverrides maps Go field names to proto field names where the
// snake_case rule does not give the right one.
func protoNameOverride(goName string) (string, bool) {
	switch goName {
	case "AZID":
		return "az_id", true
	case "EvidenceIDs":
		return "evidence_ids", true
	}
	return "", false
}

// protoName returns the proto field name of a Go struct field.
func protoName(f reflect.StructField) string {
	name, ok := protoNameOverride(f.Name)
	if !ok {
		var b strings.Builder
		rs := []rune(f.Name)
		for i, r := range rs {
			if i > 0 && unicode.IsUpper(r) &&
				(!unicode.IsUpper(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		}
		name = b.String()
	}
	if f.Type == reflect.TypeFor[time.Time]() {
		name += "_unix_nano"
	}
	return name
}

// compileSchemas compiles the .proto files of this package.
func compileSchemas(t *testing.T) (event, detection protoreflect.MessageDescriptor) {
	t.Helper()
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{}),
	}
	files, err := c.Compile(context.Background(), "event.proto", "detection.proto")
	if err != nil {
		t.Fatalf("compile .proto files: %v", err)
	}
	find := func(name protoreflect.FullName) protoreflect.MessageDescriptor {
		d, _ := files.AsResolver().FindDescriptorByName(name)
		md, ok := d.(protoreflect.MessageDescriptor)
		if !ok {
			t.Fatalf("message %s not found in the .proto files", name)
		}
		return md
	}
	return find("trailwatch.v1.Event"), find("trailwatch.v1.Detection")
}

func TestProtoConformanceEvent(t *testing.T) {
	desc, _ := compileSchemas(t)
	cases := append(eventCases(t), eventCase{"non_utf8_strings", Event{ID: "\xff\xfe", UserAgent: "ok \xc3\x28 bad"}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { conform(t, desc, eventWire(), c.e) })
	}
}

func TestProtoConformanceDetection(t *testing.T) {
	_, desc := compileSchemas(t)
	for _, c := range detectionCases() {
		t.Run(c.name, func(t *testing.T) {
			protoWire := conform(t, desc, detectionWire(), c.d)
			// With the map sorted, MarshalDetection writes exactly what a
			// deterministic protobuf encoder writes. (MarshalEvent differs
			// only in writing Raw first.)
			if mine := body(t, MarshalDetection(nil, &c.d)); string(mine) != string(protoWire) {
				t.Errorf("MarshalDetection and deterministic proto.Marshal differ:\n mine %x\nproto %x", mine, protoWire)
			}
		})
	}
}

// conform checks that dynamicpb, given the message descriptor desc, reads
// what c writes for v field for field, and that c reads what dynamicpb
// writes for v (what a generated encoder in another language would
// write), which it returns.
func conform[T any](t *testing.T, desc protoreflect.MessageDescriptor, c codec[T], v T) []byte {
	t.Helper()
	want := emptyToNil(v)
	msg := dynamicpb.NewMessage(desc)
	if err := proto.Unmarshal(body(t, c.marshal(nil, &v)), msg); err != nil {
		t.Fatalf("dynamicpb cannot read the wire bytes: %v", err)
	}
	checkNoUnknown(t, msg)
	var got T
	fromDynamic(t, msg, reflect.ValueOf(&got).Elem())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dynamicpb read:\n got %+v\nwant %+v", got, want)
	}

	msg = dynamicpb.NewMessage(desc)
	toDynamic(t, reflect.ValueOf(&v).Elem(), msg)
	protoWire, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		t.Fatalf("dynamicpb marshal: %v", err)
	}
	got = *new(T)
	if err := c.unmarshal(frame(c.tag, protoWire), &got); err != nil {
		t.Fatalf("decode dynamicpb's bytes: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decode dynamicpb's bytes:\n got %+v\nwant %+v", got, want)
	}
	return protoWire
}

// TestProtoEnums checks that the Go constants and the .proto enums agree
// on every number.
func TestProtoEnums(t *testing.T) {
	ev, det := compileSchemas(t)
	enum := func(md protoreflect.MessageDescriptor, field protoreflect.Name) protoreflect.EnumDescriptor {
		return md.Fields().ByName(field).Enum()
	}
	check := func(ed protoreflect.EnumDescriptor, prefix string, values map[string]int) {
		t.Helper()
		if ed.Values().Len() != len(values) {
			t.Errorf("enum %s has %d values, Go has %d", ed.FullName(), ed.Values().Len(), len(values))
		}
		for name, n := range values {
			v := ed.Values().ByName(protoreflect.Name(prefix + strings.ToUpper(name)))
			if v == nil || int(v.Number()) != n {
				t.Errorf("enum %s: %s%s should be %d", ed.FullName(), prefix, strings.ToUpper(name), n)
			}
		}
	}
	sources := map[string]int{}
	for _, s := range []Source{SourceUnknown, SourceCloudTrail, SourceVPCFlow} {
		sources[s.String()] = int(s)
	}
	check(enum(ev, "source"), "SOURCE_", sources)
	check(enum(ev, "mfa"), "TRISTATE_", map[string]int{"unset": int(Unset), "true": int(True), "false": int(False)})
	severities := map[string]int{"unspecified": 0}
	for s := SeverityInfo; s <= SeverityCritical; s++ {
		severities[s.String()] = int(s)
	}
	check(enum(det, "severity"), "SEVERITY_", severities)
}

// checkNoUnknown fails if dynamicpb found fields the .proto does not
// declare, at any depth: every field MarshalEvent writes must be there.
func checkNoUnknown(t *testing.T, m protoreflect.Message) {
	t.Helper()
	if len(m.GetUnknown()) > 0 {
		t.Errorf("%s: fields not in the .proto: %x", m.Descriptor().FullName(), m.GetUnknown())
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				checkNoUnknown(t, v.List().Get(i).Message())
			}
		case fd.IsMap():
		case fd.Message() != nil:
			checkNoUnknown(t, v.Message())
		}
		return true
	})
}

// structFields returns the proto field for every field of the Go struct
// type typ, failing unless the two sets of fields are the same.
func structFields(t *testing.T, typ reflect.Type, md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	t.Helper()
	fds := make([]protoreflect.FieldDescriptor, typ.NumField())
	for i := range typ.NumField() {
		f := typ.Field(i)
		fds[i] = md.Fields().ByName(protoreflect.Name(protoName(f)))
		if fds[i] == nil {
			t.Fatalf("Go field %s.%s has no field %s in %s", typ.Name(), f.Name, protoName(f), md.FullName())
		}
	}
	if typ.NumField() != md.Fields().Len() {
		t.Fatalf("Go struct %s has %d fields, %s has %d", typ.Name(), typ.NumField(), md.FullName(), md.Fields().Len())
	}
	return fds
}

// fromDynamic copies a dynamic message into the Go struct v, field by
// field, with the conventions of event.proto.
func fromDynamic(t *testing.T, m protoreflect.Message, v reflect.Value) {
	t.Helper()
	for i, fd := range structFields(t, v.Type(), m.Descriptor()) {
		f := v.Field(i)
		if !fd.IsList() && !fd.IsMap() && fd.HasPresence() && !m.Has(fd) {
			continue // absent: Go's zero value
		}
		val := m.Get(fd)
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Unix(0, val.Int()).UTC()))
		case fd.IsMap():
			if val.Map().Len() > 0 {
				f.Set(reflect.MakeMap(f.Type()))
			}
			val.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				f.SetMapIndex(reflect.ValueOf(k.String()), reflect.ValueOf(v.String()))
				return true
			})
		case fd.IsList():
			l := val.List()
			if l.Len() > 0 {
				f.Set(reflect.MakeSlice(f.Type(), l.Len(), l.Len()))
			}
			for j := range l.Len() {
				if fd.Message() != nil {
					fromDynamic(t, l.Get(j).Message(), f.Index(j))
				} else {
					f.Index(j).SetString(l.Get(j).String())
				}
			}
		case fd.Message() != nil && f.Kind() == reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
			fromDynamic(t, val.Message(), f.Elem())
		case fd.Message() != nil:
			fromDynamic(t, val.Message(), f)
		case fd.Kind() == protoreflect.EnumKind:
			f.SetUint(uint64(val.Enum()))
		case fd.Kind() == protoreflect.BytesKind:
			if len(val.Bytes()) > 0 {
				f.SetBytes(append([]byte(nil), val.Bytes()...))
			}
		case f.Kind() == reflect.String:
			f.SetString(val.String())
		case f.Kind() == reflect.Bool:
			f.SetBool(val.Bool())
		case f.Kind() == reflect.Float64:
			f.SetFloat(val.Float())
		case f.CanUint():
			f.SetUint(val.Uint())
		default:
			t.Fatalf("fromDynamic: %s: unhandled Go type %s", fd.FullName(), f.Type())
		}
	}
}

// toDynamic copies the Go struct v into a dynamic message, the way a
// generated encoder in another language would fill it.
func toDynamic(t *testing.T, v reflect.Value, m protoreflect.Message) {
	t.Helper()
	for i, fd := range structFields(t, v.Type(), m.Descriptor()) {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			if tm := f.Interface().(time.Time); !tm.IsZero() {
				m.Set(fd, protoreflect.ValueOfInt64(tm.UnixNano()))
			}
		case fd.IsMap():
			iter := f.MapRange()
			for iter.Next() {
				m.Mutable(fd).Map().Set(protoreflect.ValueOfString(iter.Key().String()).MapKey(), protoreflect.ValueOfString(iter.Value().String()))
			}
		case fd.IsList():
			for j := range f.Len() {
				l := m.Mutable(fd).List()
				if fd.Message() != nil {
					e := l.NewElement()
					toDynamic(t, f.Index(j), e.Message())
					l.Append(e)
				} else {
					l.Append(protoreflect.ValueOfString(f.Index(j).String()))
				}
			}
		case fd.Message() != nil && f.Kind() == reflect.Pointer:
			if !f.IsNil() {
				toDynamic(t, f.Elem(), m.Mutable(fd).Message())
			}
		case fd.Message() != nil:
			if !f.IsZero() {
				toDynamic(t, f, m.Mutable(fd).Message())
			}
		case fd.Kind() == protoreflect.EnumKind:
			m.Set(fd, protoreflect.ValueOfEnum(protoreflect.EnumNumber(f.Uint())))
		case fd.Kind() == protoreflect.BytesKind:
			m.Set(fd, protoreflect.ValueOfBytes(f.Bytes()))
		case f.Kind() == reflect.String:
			m.Set(fd, protoreflect.ValueOfString(f.String()))
		case f.Kind() == reflect.Bool:
			m.Set(fd, protoreflect.ValueOfBool(f.Bool()))
		case f.Kind() == reflect.Float64:
			m.Set(fd, protoreflect.ValueOfFloat64(f.Float()))
		case fd.Kind() == protoreflect.Uint64Kind:
			m.Set(fd, protoreflect.ValueOfUint64(f.Uint()))
		case f.CanUint():
			m.Set(fd, protoreflect.ValueOfUint32(uint32(f.Uint())))
		default:
			t.Fatalf("toDynamic: %s: unhandled Go type %s", fd.FullName(), f.Type())
		}
	}
}
