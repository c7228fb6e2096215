package render

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	networking "istio.io/api/networking/v1alpha3"
)

// TestSpecTextMatchesProtoText: the direct renderers write exactly what the
// descriptor-driven protoText writes, or refuse exactly when it refuses, on
// messages with every field filled at random (strings that need quoting,
// empty list elements, unknown enum numbers included).
func TestSpecTextMatchesProtoText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, newMsg := range []func() proto.Message{
		func() proto.Message { return &networking.ServiceEntry{} },
		func() proto.Message { return &networking.WorkloadEntry{} },
	} {
		accepted := 0
		for i := 0; i < 3000; i++ {
			m := newMsg()
			fill(rng, m.ProtoReflect(), 0)
			var direct, generic bytes.Buffer
			okDirect := specText(&direct, m)
			okGeneric := protoText(&generic, m.ProtoReflect(), 0, false)
			if okDirect != okGeneric || (okDirect && direct.String() != generic.String()) {
				t.Fatalf("%T %v:\ndirect (%v):\n%s\nprotoText (%v):\n%s", m, m, okDirect, direct.String(), okGeneric, generic.String())
			}
			if okDirect {
				accepted++
			}
		}
		if accepted < 300 {
			t.Errorf("%T: only %d of 3000 random messages rendered: the test exercises too little", newMsg(), accepted)
		}
	}
}

var sampleStrings = []string{"", "a", "x.ns.svc.cluster.local", "*", ".", "8080", "yes", "a b", "spiffe://td/ns/a/sa/b", "http", "r/z", "10.0.0.1"}

// fill sets each field of m with probability 1/2, recursing into messages.
func fill(rng *rand.Rand, m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if rng.IntN(2) == 0 {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for n := rng.IntN(3); n > 0; n-- {
				if fd.Kind() == protoreflect.MessageKind {
					e := l.NewElement()
					if depth < 3 {
						fill(rng, e.Message(), depth+1)
					}
					l.Append(e)
					continue
				}
				l.Append(randomValue(rng, fd))
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for n := rng.IntN(3); n > 0; n-- {
				k := sampleStrings[rng.IntN(len(sampleStrings))]
				mp.Set(protoreflect.ValueOfString(k).MapKey(), randomValue(rng, fd.MapValue()))
			}
		case fd.Kind() == protoreflect.MessageKind:
			if depth < 3 {
				fill(rng, m.Mutable(fd).Message(), depth+1)
			}
		default:
			m.Set(fd, randomValue(rng, fd))
		}
	}
}

func randomValue(rng *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(sampleStrings[rng.IntN(len(sampleStrings))])
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(rng.IntN(2) == 0)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(rng.IntN(3) * 8080))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(rng.IntN(3)*100 - 100))
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if rng.IntN(10) == 0 {
			return protoreflect.ValueOfEnum(99) // not a declared value
		}
		return protoreflect.ValueOfEnum(vals.Get(rng.IntN(vals.Len())).Number())
	}
	panic("randomValue: unhandled kind " + fd.Kind().String())
}
