package sestrack

import (
	"reflect"
	"strconv"
	"testing"
)

func TestRewrite_tracksWebLinks_keepsNoTrack_dropsSESTags(t *testing.T) {
	src := `<!DOCTYPE html><html><head><title>Not <a href="https://t.example/">a link</a></title>
<style>a[href^="https://s.example/"]{color:red} /* <a href="https://s.example/"> */</style></head>
<body><!-- <a href="https://comment.example/"> -->
<a href="https://acme.example/x?utm_source=nurture&amp;utm_medium=email" ses:tags="link:asset;asset:finops-checklist;" style="color:#fff">Read it</a>
<a ses:no-track href="https://api.example/u/tok">Unsubscribe</a>
<a ses:no-track ses:tags="link:answer;" href="https://api.example/a/tok">Yes</a>
<A HREF='https://b.example/'>upper</A>
<a href=https://c.example/p title="x > y">unquoted</a>
<a href="mailto:sales@acme.example" ses:tags="link:mail;">mail us</a>
<a name="top">no href</a>
<img alt="<a href='https://img.example/'>">
<div style="display:none"><a href="https://acme.example/x?utm_source=nurture&amp;utm_medium=email" ses:tags="link:honeypot;" tabindex="-1">&#8203;</a></div>
</body></html>`
	got, links := rewrite(src, func(i int) string { return "http://localhost:3000/_local/click?r=REF&n=" + strconv.Itoa(i) })
	want := `<!DOCTYPE html><html><head><title>Not <a href="https://t.example/">a link</a></title>
<style>a[href^="https://s.example/"]{color:red} /* <a href="https://s.example/"> */</style></head>
<body><!-- <a href="https://comment.example/"> -->
<a href="http://localhost:3000/_local/click?r=REF&amp;n=0" style="color:#fff">Read it</a>
<a ses:no-track href="https://api.example/u/tok">Unsubscribe</a>
<a ses:no-track href="https://api.example/a/tok">Yes</a>
<A HREF="http://localhost:3000/_local/click?r=REF&amp;n=1">upper</A>
<a href="http://localhost:3000/_local/click?r=REF&amp;n=2" title="x > y">unquoted</a>
<a href="mailto:sales@acme.example">mail us</a>
<a name="top">no href</a>
<img alt="<a href='https://img.example/'>">
<div style="display:none"><a href="http://localhost:3000/_local/click?r=REF&amp;n=3" tabindex="-1">&#8203;</a></div>
</body></html>`
	if got != want {
		t.Errorf("rewrite:\n%s\nwant\n%s", got, want)
	}
	wantLinks := []trackedLink{
		{url: "https://acme.example/x?utm_source=nurture&utm_medium=email", tags: map[string][]string{"link": {"asset"}, "asset": {"finops-checklist"}}},
		{url: "https://b.example/"},
		{url: "https://c.example/p"},
		{url: "https://acme.example/x?utm_source=nurture&utm_medium=email", tags: map[string][]string{"link": {"honeypot"}}},
	}
	if !reflect.DeepEqual(links, wantLinks) {
		t.Errorf("links = %+v\nwant %+v", links, wantLinks)
	}
}

func TestRewrite_nothingToTrack_returnsTheInput(t *testing.T) {
	for _, src := range []string{"", "plain text", "<p>a < b</p>", `<a ses:no-track href="https://x.example/">x</a>`, `<a href="https://x.example/"`} {
		got, links := rewrite(src, func(int) string { t.Fatal("nothing here is tracked"); return "" })
		if got != src || links != nil {
			t.Errorf("rewrite(%q) = %q, %v", src, got, links)
		}
	}
}

func TestAddPixel_beforeTheLastBodyEnd(t *testing.T) {
	img := `<img src="http://l/_local/open?r=R&amp;x=1" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">`
	for src, want := range map[string]string{
		"<p>&lt;/body&gt;</p></BODY></html>": "<p>&lt;/body&gt;</p>" + img + "</BODY></html>",
		"<p>no body</p>":                     "<p>no body</p>" + img,
	} {
		if got := addPixel(src, "http://l/_local/open?r=R&x=1"); got != want {
			t.Errorf("addPixel(%q) = %q, want %q", src, got, want)
		}
	}
}

func TestParseLinkTags(t *testing.T) {
	got := parseLinkTags(" link : asset ;asset:a-1;;broken; :x;empty:;")
	want := map[string][]string{"link": {"asset"}, "asset": {"a-1"}, "empty": {""}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseLinkTags = %v, want %v", got, want)
	}
	if parseLinkTags("") != nil {
		t.Fatal("no tags should be nil")
	}
}
