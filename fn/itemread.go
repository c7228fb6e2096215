package fn

import (
	"bytes"
	"io"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ItemReader is a Processor that reads the items as the edge parses them.
//
// Why: kyaml parses a ResourceList as one document, so every item's tree
// is alive at once, and those trees are most of a function's memory and of
// its garbage collector's work (about 20 times the size of their text). A
// function that only reads most items (meshfed reads every Service and
// workload, and changes none) can take what it needs from each item as it
// is parsed and Release it, so that only its bytes stay; the trees are then
// garbage before the next one is parsed. The output is unchanged.
type ItemReader interface {
	Processor
	// ReadItems starts a run (over, if one was started) of n items: the
	// edge calls the returned function with every item, in order, as soon
	// as it is parsed, and then calls Process with the whole ResourceList
	// (the same KubeObjects). The edge has found the items before parsing
	// them, so n is exact; it lets a reader size its tables once. Without a
	// call to ReadItems, Process gets the ResourceList as any Processor
	// does.
	ReadItems(n int) func(*kfn.KubeObject)
}

// readItemByItem reads input, a ResourceList in the plain form kyaml
// writes (see splitResourceList), parsing each item on its own and giving
// it to observe before parsing the next one. ok is false when the input is
// in any other form or an item does not parse on its own or is not an
// object: nothing was given to observe that the caller must keep, and the
// caller reads the input with kyaml's reader instead (and starts the
// ItemReader's run over).
func readItemByItem(input []byte, start func(n int) func(*kfn.KubeObject)) (rw *kio.ByteReadWriter, rl *kfn.ResourceList, forget func(), ok bool) {
	layout, ok := splitResourceList(input)
	if !ok {
		return nil, nil, nil, false
	}
	// The rest of the document (apiVersion, kind, functionConfig, results)
	// goes through kyaml's own reader, with an empty item list.
	rw = &kio.ByteReadWriter{Reader: bytes.NewReader(layout.rest), OmitReaderAnnotations: true, KeepReaderAnnotations: true}
	if nodes, err := rw.Read(); err != nil || len(nodes) != 0 || rw.WrappingKind != kio.ResourceListKind || !writesItemByItem(rw) {
		return nil, nil, nil, false
	}
	if len(notObjects(nil, rw.FunctionConfig)) > 0 {
		return nil, nil, nil, false
	}
	rl = &kfn.ResourceList{Items: make(kfn.KubeObjects, 0, len(layout.items)), FunctionConfig: kfn.NewEmptyKubeObject()}
	if rw.FunctionConfig != nil {
		rl.FunctionConfig = kfn.CopyToKubeObject(rw.FunctionConfig)
	}
	observe := start(len(layout.items))
	// One decoder reads the items as a stream of documents, so its buffers
	// serve them all (a decoder per item allocated more than the trees).
	dec := yaml.NewDecoder(&itemStream{input: input, spans: layout.items})
	for range layout.items {
		n, ok := decodeItem(dec)
		if !ok {
			unregisterItems(rl.Items)
			return nil, nil, nil, false
		}
		o := kfn.MoveToKubeObject(yaml.NewRNode(n))
		registerItem(o, n, true)
		rl.Items = append(rl.Items, o)
		observe(o)
	}
	// Each item must have been exactly one document: anything left means
	// the items and the documents did not line up.
	if err := dec.Decode(new(yaml.Node)); err != io.EOF {
		unregisterItems(rl.Items)
		return nil, nil, nil, false
	}
	items := rl.Items
	return rw, rl, func() { unregisterItems(items) }, true
}

// decodeItem decodes the next item; ok only for a single mapping.
func decodeItem(dec *yaml.Decoder) (*yaml.Node, bool) {
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, false
	}
	return doc.Content[0], true
}

// itemStream reads the items of input as a YAML stream: each item with its
// first two columns removed, separated by document markers.
type itemStream struct {
	input   []byte
	spans   [][2]int
	next    int    // index of the next item to produce
	pending []byte // produced, not yet read
	buf     []byte
}

func (s *itemStream) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		if s.next == len(s.spans) {
			return 0, io.EOF
		}
		s.buf = s.buf[:0]
		if s.next > 0 {
			s.buf = append(s.buf, "---\n"...)
		}
		span := s.spans[s.next]
		s.buf = deindentItem(s.buf, s.input[span[0]:span[1]])
		s.pending = s.buf
		s.next++
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// resourceListLayout is where the parts of a plain ResourceList are.
type resourceListLayout struct {
	items [][2]int // byte spans of the items, each from its "- " line
	rest  []byte   // the document without its items (and "items: []")
}

// splitResourceList finds the items of a ResourceList written the way
// kyaml writes one (what kustomize and kpt send): top-level keys at column
// 0, `items:` alone on its line, each item starting with "- " at column 0
// and continued by lines indented by two spaces (or empty). It refuses,
// so that kyaml's reader is used, anything where reading an item on its
// own could differ from reading it in place: comments other than those
// described below, document markers, tabs or carriage returns at line
// starts, other indentation, and keys other than apiVersion, kind, items,
// functionConfig and results.
// (Anchors and aliases need no check: an alias of another item's anchor
// does not parse on its own, and readItemByItem then gives up.)
func splitResourceList(input []byte) (resourceListLayout, bool) {
	var l resourceListLayout
	if bytes.IndexByte(input, '\r') >= 0 {
		return l, false
	}
	rest := make([]byte, 0, 256)
	section := ""
	sawItems := false
	itemStart := -1
	// Comments: go-yaml attaches a comment by what surrounds it, so one at
	// an item's edge can attach differently when the item is a document of
	// its own. Comments are taken only where the tests show the same
	// attachment: after "- " directly above the item's first key, at the
	// end of a line, and on a line of their own inside an item with more
	// of the item below and no empty line above. kyaml's writer puts an
	// item's head comment after "- ".
	lastComment, lastBlank, dashComment := false, false, false
	endItem := func(at int) bool {
		if itemStart >= 0 {
			if lastComment || dashComment {
				return false // a foot comment, or an item of nothing but a comment
			}
			l.items = append(l.items, [2]int{itemStart, at})
			itemStart = -1
		}
		return true
	}
	for pos := 0; pos < len(input); {
		end := bytes.IndexByte(input[pos:], '\n')
		if end < 0 {
			end = len(input)
		} else {
			end += pos + 1
		}
		line := input[pos:end]
		switch {
		case len(bytes.TrimLeft(line, " ")) == 0 || bytes.TrimLeft(line, " ")[0] == '\n':
			// An empty line belongs to what it is in (a block scalar).
			if section != "items" {
				rest = append(rest, line...)
				break
			}
			if dashComment {
				return l, false
			}
			lastBlank = true
		case line[0] == '#', line[0] == '\t', bytes.HasPrefix(line, []byte("---")), bytes.HasPrefix(line, []byte("...")):
			return l, false
		case line[0] == ' ':
			if section == "items" {
				// Two columns less, a line must not read as a document
				// marker or a directive.
				if itemStart < 0 || !bytes.HasPrefix(line, []byte("  ")) || looksLikeMarker(line[2:]) {
					return l, false
				}
				isComment := bytes.TrimLeft(line, " ")[0] == '#'
				if isComment && (lastBlank || dashComment) {
					return l, false
				}
				if dashComment && line[2] == ' ' {
					// The first key sets the item's indentation: it must be
					// where a key after "- " would be. Found by
					// FuzzReadItemByItem.
					return l, false
				}
				lastComment, lastBlank, dashComment = isComment, false, false
				break
			}
			if section == "" || bytes.TrimLeft(line, " ")[0] == '#' {
				return l, false
			}
			rest = append(rest, line...)
		case line[0] == '-' && section != "items":
			// A compact sequence in results (or another section).
			if section == "" {
				return l, false
			}
			rest = append(rest, line...)
		case line[0] == '-':
			if !bytes.HasPrefix(line, []byte("- ")) || len(line) < 3 || !isKeyStart(line[2]) && line[2] != '#' || !endItem(pos) {
				return l, false
			}
			itemStart = pos
			dashComment, lastComment, lastBlank = line[2] == '#', false, false
		default:
			if !endItem(pos) {
				return l, false
			}
			key, _, _ := strings.Cut(string(line), ":")
			switch key {
			case "items":
				if sawItems || strings.TrimRight(string(line), "\n") != "items:" {
					return l, false
				}
				sawItems = true
				rest = append(rest, "items: []\n"...)
			case "apiVersion", "kind", "functionConfig", "results":
				rest = append(rest, line...)
			default:
				return l, false
			}
			section = key
		}
		pos = end
	}
	if !endItem(len(input)) {
		return l, false
	}
	if !sawItems || len(rest) > 0 && rest[len(rest)-1] != '\n' {
		rest = append(rest, '\n')
	}
	l.rest = rest
	return l, sawItems
}

func looksLikeMarker(line []byte) bool {
	return bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || bytes.HasPrefix(line, []byte("%"))
}

// isKeyStart: an item's first line after "- " must start a plain key.
func isKeyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// deindentItem appends item (its "- " line and two-space indented lines)
// to dst with the first two columns removed.
func deindentItem(dst, item []byte) []byte {
	for len(item) > 0 {
		end := bytes.IndexByte(item, '\n')
		if end < 0 {
			end = len(item)
		} else {
			end++
		}
		line := item[:end]
		if len(line) >= 2 && line[0] != '\n' {
			line = line[2:]
		}
		dst = append(dst, line...)
		item = item[end:]
	}
	return dst
}
