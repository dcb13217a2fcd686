package content

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// yamlDecoded is what yaml.v3 makes of head, as parseFrontMatter asks it.
func yamlDecoded(head string) (map[string]any, error) {
	raw := map[string]any{}
	err := yaml.NewDecoder(strings.NewReader(head)).Decode(&raw)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return raw, err
}

// checkFlatYAML fails when flatYAML takes head and reads it otherwise
// than yaml.v3 does, or takes a head yaml.v3 refuses.
func checkFlatYAML(t *testing.T, head string) bool {
	t.Helper()
	got, ok := flatYAML(head)
	if !ok {
		return false
	}
	want, err := yamlDecoded(head)
	if err != nil {
		t.Fatalf("flatYAML took %q, which yaml.v3 refuses: %v", head, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("flatYAML(%q) = %#v, yaml.v3 reads %#v", head, got, want)
	}
	return true
}

func TestFlatYAML(t *testing.T) {
	taken := []string{
		"title: \"Harbour no. 7\"\ndate: 2024-01-05 10:00\nauthor: Jane Roe\ntags: [ferry, bridge, budget]\n",
		"title: Plain words, a comma and a colon:in a word\n",
		"title: 'single quoted # not a comment'\ndraft:\n",
		"date: 2024-01-05\nupdated: 2024-01-05T10:00:00Z\nlastmod: 2024-1-5 9:3:4.5\n",
		"# a comment\n\ntitle: x   \r\ntags: []\nsummary: \"\"\n",
		"tags: ['a b', \"c\", d-e]\n",
		"title: Tom &amp; Jerry's Caf&eacute;\n",
		"title: Ünïcödé 日本語\n",
		"",
	}
	for _, h := range taken {
		if !checkFlatYAML(t, h) {
			t.Errorf("flatYAML left %q to yaml.v3; it is one of the shapes it is for", h)
		}
	}
	left := []string{
		"draft: true\n", "count: 7\n", "ratio: .5\n", "title: null\n", "title: ~\n",
		"title: a # comment\n", "title: a: b\n", "title: a:\n", "title:x\n",
		"title: \"esc\\\"aped\"\n", "title: 'it''s'\n", "tags:\n  - a\n", "title: >\n  folded\n",
		"title: a\ntitle: b\n", "true: x\n", "\ttitle: x\n", "title: &anchor x\n", "title: *alias\n",
		"title: !tag x\n", "tags: [a, [b]]\n", "tags: [1, 2]\n", "tags: [a,]\n", "tags: [a: b]\n",
		"date: 2024-13-45\n", "title: \"a\" trailing\n", "title: x\u2028y\n", "title: x\ry\n", "\ufefftitle: x\n",
		"title: a\n  continued\n", "- a\n", "title: @x\n", "title: `x`\n", "title: x\x01\n", "title: \xff\n", strings.Repeat("k", 1100) + ": v\n",
	}
	for _, h := range left {
		if checkFlatYAML(t, h) {
			t.Errorf("flatYAML took %q; it should go to yaml.v3", h)
		}
	}
}

// FuzzFlatYAML: whatever head flatYAML takes, yaml.v3 reads the same.
func FuzzFlatYAML(f *testing.F) {
	for _, s := range []string{
		"title: \"Harbour no. 7\"\ndate: 2024-01-05 10:00\nauthor: Jane Roe\ntags: [ferry, bridge, budget]\n",
		"date: 2024-01-05T10:00:00Z\n", "tags: ['a b', \"c\", d-e]\n", "title: a # b\n", "draft: true\n", "x: 0x1F\n",
		"title: y\nTitle: z\n", "a: b\r\n", "k: \"\"\n", "k: [ ]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, head string) { checkFlatYAML(t, head) })
}
