package content

import (
	"reflect"
	"regexp"
	"sort"
	"testing"

	"github.com/microcosm-cc/bluemonday"
)

// policyField is the renderer's policy's unexported field of that name,
// read by reflection: the fast pass copies the policy's rules, and this
// test fails when the policy (or bluemonday) has rules it does not copy.
func policyField(t *testing.T, r *Renderer, name string) reflect.Value {
	t.Helper()
	v := reflect.ValueOf(r.policy).Elem().FieldByName(name)
	if !v.IsValid() {
		t.Fatalf("bluemonday.Policy has no field %s: the fast pass needs reviewing against this bluemonday", name)
	}
	return v
}

// attrPatterns reads a map[string][]attrPolicy: each attribute's
// patterns, nil for one that takes any value.
func attrPatterns(v reflect.Value) map[string][]*regexp.Regexp {
	out := map[string][]*regexp.Regexp{}
	for _, k := range v.MapKeys() {
		list := v.MapIndex(k)
		pats := []*regexp.Regexp{}
		for i := range list.Len() {
			p := list.Index(i).FieldByName("regexp")
			pats = append(pats, (*regexp.Regexp)(p.UnsafePointer()))
		}
		out[k.String()] = pats
	}
	return out
}

func matchesAny(pats []*regexp.Regexp, val string) bool {
	for _, p := range pats {
		if p == nil || p.MatchString(val) {
			return true
		}
	}
	return false
}

func setOf(v reflect.Value) map[string]bool {
	out := map[string]bool{}
	for _, k := range v.MapKeys() {
		out[k.String()] = true
	}
	return out
}

// TestClean_PolicyAsKnown holds the fast pass's copy of the policy to the
// policy NewRenderer builds: which elements it allows, with which
// attributes and values, and the switches that would change what it
// writes.
func TestClean_PolicyAsKnown(t *testing.T) {
	r := newDiffRenderer(t)
	for name, want := range map[string]bool{
		"initialized": true, "requireParseableURLs": true, "allowRelativeURLs": true,
		"addSpaces": false, "requireNoFollow": false, "requireNoFollowFullyQualifiedLinks": false,
		"requireNoReferrer": false, "requireNoReferrerFullyQualifiedLinks": false,
		"requireCrossOriginAnonymous": false, "addTargetBlankToFullyQualifiedLinks": false,
		"allowDataAttributes": false, "allowComments": false, "allowUnsafe": false,
	} {
		if got := policyField(t, r, name).Bool(); got != want {
			t.Errorf("policy %s = %v, the fast pass assumes %v", name, got, want)
		}
	}
	for _, name := range []string{"requireSandboxOnIFrame", "elsMatchingAndAttrs", "elsAndStyles",
		"elsMatchingAndStyles", "globalStyles", "allowURLSchemeRegexps", "setOfElementsMatchingAllowedWithoutAttrs"} {
		if n := policyField(t, r, name).Len(); n != 0 {
			t.Errorf("policy %s has %d entries, the fast pass assumes none", name, n)
		}
	}
	if !policyField(t, r, "srcRewriter").IsNil() {
		t.Error("policy has a srcRewriter, the fast pass assumes none")
	}
	schemes := policyField(t, r, "allowURLSchemes")
	var got []string
	for _, k := range schemes.MapKeys() {
		got = append(got, k.String())
		if n := schemes.MapIndex(k).Len(); n != 0 {
			t.Errorf("URL scheme %s has %d policies, the fast pass assumes none", k, n)
		}
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, []string{"http", "https", "mailto"}) {
		t.Errorf("policy allows URL schemes %q, the fast pass http, https and mailto", got)
	}

	els := map[string]map[string][]*regexp.Regexp{}
	v := policyField(t, r, "elsAndAttrs")
	for _, k := range v.MapKeys() {
		els[k.String()] = attrPatterns(v.MapIndex(k))
	}
	global := attrPatterns(policyField(t, r, "globalAttrs"))
	noAttrs := setOf(policyField(t, r, "setOfElementsAllowedWithoutAttrs"))
	skips := setOf(policyField(t, r, "setOfElementsToSkipContent"))

	// Every name the policy knows of, and some it does not.
	names := map[string]bool{}
	keys := map[string]bool{}
	for el, attrs := range els {
		names[el] = true
		for k := range attrs {
			keys[k] = true
		}
	}
	for k := range global {
		keys[k] = true
	}
	for _, set := range []map[string]bool{noAttrs, skips} {
		for el := range set {
			names[el] = true
		}
	}
	for a := range unsafeElements {
		names[a.String()] = true
	}
	for _, el := range []string{"kbd", "nav", "header", "footer", "main", "font", "center", "label",
		"picture", "source", "video", "audio", "svg", "math", "xmp", "plaintext", "custom-el", "h7"} {
		names[el] = true
	}
	for _, k := range []string{"class", "style", "href", "src", "cite", "onclick", "srcset", "poster",
		"data-x", "name", "rel", "target", "role", "checked"} {
		keys[k] = true
	}
	values := []string{"", " ", "x", "left", "LEFT", "char", "top", "Middle", "rtl", "LTR", "en", "e",
		"10", "10%", "-1", "1.5", "a", "I", "disc", "row", "colgroup", "nowrap", "open",
		"#map", "#", "a b", "ok-id", "fn:1", "bad!id", "it's (fine), [ok] ./\\", "x<y", "a\"b",
		"2026-01-02T03:04:05Z", "2026-01-02", "https://example.com/", "/rel", "Ünïcode é"}

	for el := range names {
		k := ugcElement([]byte(el))
		allowed, inPolicy := k != kindUnknown && k != kindDropped, els[el] != nil
		switch {
		case skips[el] && k != kindUnknown:
			t.Errorf("<%s>: the policy skips its content, the fast pass does not give up on it", el)
		case k == kindDropped && inPolicy:
			t.Errorf("<%s>: the policy allows it, the fast pass drops it", el)
		case allowed && !inPolicy:
			t.Errorf("<%s>: the policy drops it, the fast pass keeps it", el)
		}
		if !allowed {
			continue
		}
		if k.needsAttrs() == noAttrs[el] {
			t.Errorf("<%s>: allowed without attributes %v, the fast pass thinks %v", el, noAttrs[el], !k.needsAttrs())
		}
		for key := range keys {
			for _, val := range values {
				want := matchesAny(els[el][key], val) || matchesAny(global[key], val)
				got := (k.checksURL(key) && (k != kindChange || bluemonday.Paragraph.MatchString(val))) ||
					k.allows(key, []byte(val))
				if got != want {
					t.Errorf("<%s %s=%q>: the policy keeps it %v, the fast pass %v", el, key, val, want, got)
				}
			}
		}
	}
}
