package mail

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/program"
)

// NurtureEmail is everything one nurture step says to one lead.
type NurtureEmail struct {
	To string
	// FirstName greets the reader ("Hi Ada,"). Empty, or anything that is
	// not a name (a link, an address, digits: display.Name), gives the
	// neutral "Hello,": whoever typed it is not the reader it pretends to greet.
	FirstName string
	Sender    program.Sender
	Subject   string
	Intro     string // one or two sentences; a blank line starts a new paragraph
	Asset     program.Asset
	// AssetURL is the link to the asset; it may differ from Asset.URL (campaign
	// parameters). Empty means Asset.URL.
	AssetURL string
	// Reason says why this asset was picked, e.g. "Because you read “The
	// FinOps field guide”". May be empty.
	Reason   string
	Question *QuestionBlock // optional: at most one question per email
	// Help asks "What would help you most next?" with a link per topic
	// (and one for something else), in place of a question.
	Help *QuestionBlock
	// Rating ends an email with an asset: "Was this useful?" and its two
	// one-click answers.
	Rating *RatingBlock
	// Keep, in the re-engagement email, takes the asset's place: one
	// button that keeps the emails coming.
	Keep *KeepBlock
	// UnsubscribeURL is the one-click unsubscribe link; required, http(s).
	UnsubscribeURL string
	// PreferencesURL is the lead's preference page (topics, cadence),
	// linked next to Unsubscribe; optional.
	PreferencesURL string
	// Downloaded names what the lead first asked for, for the footer's "you
	// receive this because you downloaded …". May be empty.
	Downloaded string
}

// QuestionBlock is a progressive-profiling question answered with one click.
type QuestionBlock struct {
	Text    string
	Answers []AnswerLink
}

// RatingBlock is "Was this useful?" and the signed links of its two
// answers.
type RatingBlock struct {
	Text    string
	Yes, No AnswerLink
}

// KeepBlock is the re-engagement email's one button and the signed link
// behind it.
type KeepBlock struct {
	Label, URL string
}

// AnswerLink is one answer and the signed link that records it.
type AnswerLink struct {
	Label, URL string
}

//go:embed nurture.html.tmpl
var nurtureHTML string

var nurtureTemplate = template.Must(template.New("nurture").Funcs(template.FuncMap{
	// questions lists the question blocks an email has, in order.
	"questions": func(qs ...*QuestionBlock) []*QuestionBlock {
		var out []*QuestionBlock
		for _, q := range qs {
			if q != nil {
				out = append(out, q)
			}
		}
		return out
	},
	"preferencesLabel": func() string { return PreferencesLabel },
}).Parse(nurtureHTML))

// view is what both parts of the email show, worked out once.
type view struct {
	Subject        string
	Greeting       string
	Intro          []string
	Asset          program.Asset
	FormatLabel    string
	ButtonLabel    string
	AssetURL       string
	AssetLinkTags  string // ses:tags of the asset link
	HoneypotTags   string // ses:tags of the hidden link
	Reason         string
	Question       *QuestionBlock
	Help           *QuestionBlock
	Rating         *RatingBlock
	Keep           *KeepBlock
	Because        string
	PreferencesURL string
	UnsubscribeURL string
	Company        string
	PostalAddress  string
	Address        string // the footer line: company and postal address
}

// RenderNurture builds the nurture email: an HTML part (everything escaped,
// inline styles, one column up to 600px), a plain-text part with the same
// content and every URL spelled out, and the RFC 8058 one-click unsubscribe
// headers. The unsubscribe link carries ses:no-track so SES click tracking
// does not rewrite it.
func RenderNurture(e NurtureEmail) (Message, error) {
	if err := e.check(); err != nil {
		return Message{}, fmt.Errorf("render nurture email: %w", err)
	}
	v := e.view()

	var html bytes.Buffer
	if err := nurtureTemplate.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("render nurture email: %w", err)
	}
	m := Message{
		From:    e.Sender.From,
		To:      e.To,
		ReplyTo: e.Sender.ReplyTo,
		Subject: e.Subject,
		HTML:    html.String(),
		Text:    v.text(),
		Headers: []Header{
			{Name: "List-Unsubscribe", Value: "<" + e.UnsubscribeURL + ">"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		},
	}
	if err := m.checkHeaders(); err != nil {
		return Message{}, fmt.Errorf("render nurture email: %w", err)
	}
	return m, nil
}

func (e NurtureEmail) check() error {
	var errs []error
	need := func(what, v string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("no %s", what))
		}
	}
	need("recipient", e.To)
	need("sender address", e.Sender.From)
	need("subject", e.Subject)
	if k := e.Keep; k != nil {
		need("keep button label", k.Label)
		if err := checkLink("keep URL", k.URL); err != nil {
			errs = append(errs, err)
		}
	} else {
		need("asset title", e.Asset.Title)
		if err := checkLink("asset URL", e.assetURL()); err != nil {
			errs = append(errs, err)
		}
	}
	// Bulk-sender rules (CAN-SPAM and others) want a postal address in every mail.
	need("sender postal address", e.Sender.PostalAddress)
	if err := checkHeaderValue("subject", e.Subject); err != nil {
		errs = append(errs, err)
	}
	if err := checkLink("unsubscribe URL", e.UnsubscribeURL); err != nil {
		errs = append(errs, err)
	}
	for _, b := range []struct {
		what string
		q    *QuestionBlock
	}{{"question", e.Question}, {"help question", e.Help}} {
		what, q := b.what, b.q
		if q == nil {
			continue
		}
		need(what+" text", q.Text)
		if len(q.Answers) == 0 {
			errs = append(errs, fmt.Errorf("%s without answers", what))
		}
		for i, a := range q.Answers {
			need(fmt.Sprintf("label for %s answer %d", what, i+1), a.Label)
			if err := checkLink(fmt.Sprintf("%s answer %d URL", what, i+1), a.URL); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if r := e.Rating; r != nil {
		need("rating text", r.Text)
		for _, a := range []AnswerLink{r.Yes, r.No} {
			need("rating answer label", a.Label)
			if err := checkLink("rating answer URL", a.URL); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if e.PreferencesURL != "" {
		if err := checkLink("preferences URL", e.PreferencesURL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkLink accepts only absolute http(s) URLs without spaces or angle
// brackets, which also keeps the List-Unsubscribe header well formed.
func checkLink(what, s string) error {
	if s == "" {
		return fmt.Errorf("no %s", what)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s is not an absolute http(s) URL", what)
	}
	if strings.ContainsAny(s, " <>\"\r\n\t") || !printableASCII(s) {
		return fmt.Errorf("%s has characters that need escaping", what)
	}
	return nil
}

func (e NurtureEmail) assetURL() string {
	if e.AssetURL != "" {
		return e.AssetURL
	}
	return e.Asset.URL
}

func (e NurtureEmail) view() view {
	v := view{
		Subject:        e.Subject,
		Greeting:       "Hello,",
		Intro:          paragraphs(e.Intro),
		Asset:          e.Asset,
		FormatLabel:    FormatLabel(e.Asset.Format),
		ButtonLabel:    buttonLabel(e.Asset.Format),
		AssetURL:       e.assetURL(),
		AssetLinkTags:  linkTags(TagLink, LinkAsset, TagAsset, Tag(e.Asset.ID)),
		HoneypotTags:   linkTags(TagLink, LinkHoneypot),
		Reason:         oneLine(e.Reason),
		Question:       e.Question,
		Help:           e.Help,
		Rating:         e.Rating,
		Keep:           e.Keep,
		PreferencesURL: e.PreferencesURL,
		UnsubscribeURL: e.UnsubscribeURL,
		Company:        oneLine(e.Sender.Company),
		PostalAddress:  oneLine(e.Sender.PostalAddress),
	}
	if name, ok := display.Name(e.FirstName); ok {
		v.Greeting = "Hi " + name + ","
	}
	from := "us"
	if v.Company != "" {
		from = v.Company
	}
	// A company name such as "Acme, Inc." ends in a period already.
	end := "."
	if strings.HasSuffix(from, ".") {
		end = ""
	}
	v.Because = "You receive this email because you downloaded content from " + from + end
	if d := oneLine(e.Downloaded); d != "" {
		v.Because = "You receive this email because you downloaded “" + d + "” from " + from + end
	}
	v.Address = footerAddress(v.Company, v.PostalAddress)
	return v
}

// text is the plain-text part: the same content, URLs written out.
func (v view) text() string {
	var b strings.Builder
	line := func(s ...string) {
		b.WriteString(strings.Join(s, ""))
		b.WriteString("\n")
	}
	line(v.Greeting)
	line()
	for _, p := range v.Intro {
		line(p)
		line()
	}
	if k := v.Keep; k != nil {
		line(oneLine(k.Label), ": ", k.URL)
		line()
	} else {
		label := v.Asset.Title
		if v.FormatLabel != "" {
			label = v.FormatLabel + ": " + label
		}
		line(label)
		if s := oneLine(v.Asset.Summary); s != "" {
			line(s)
		}
		line(v.ButtonLabel, ": ", v.AssetURL)
		line()
	}
	if v.Reason != "" {
		line(v.Reason)
		line()
	}
	for _, q := range []*QuestionBlock{v.Question, v.Help} {
		if q == nil {
			continue
		}
		line(oneLine(q.Text))
		for _, a := range q.Answers {
			line("- ", oneLine(a.Label), ": ", a.URL)
		}
		line()
	}
	if r := v.Rating; r != nil {
		line(oneLine(r.Text))
		line("- ", oneLine(r.Yes.Label), ": ", r.Yes.URL)
		line("- ", oneLine(r.No.Label), ": ", r.No.URL)
		line()
	}
	line("-- ")
	line(v.Because)
	if v.PreferencesURL != "" {
		line(PreferencesLabel, ": ", v.PreferencesURL)
	}
	line("Unsubscribe: ", v.UnsubscribeURL)
	line()
	line(v.Address)
	return b.String()
}

// PreferencesLabel is the footer link to the lead's preference page.
const PreferencesLabel = "Choose topics and how often"

// footerAddress names the company once: postal addresses usually start
// with it already.
func footerAddress(company, address string) string {
	if company == "" || strings.HasPrefix(address, company) {
		return address
	}
	return company + ", " + address
}

// FormatLabel is how an asset format reads to a person.
func FormatLabel(format string) string {
	switch format {
	case "ebook":
		return "E-book"
	case "case-study":
		return "Case study"
	case "":
		return ""
	}
	s := strings.ReplaceAll(format, "-", " ")
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

func buttonLabel(format string) string {
	switch format {
	case "video":
		return "Watch the video"
	case "webinar":
		return "Watch the webinar"
	case "":
		return "Read it"
	}
	return "Read the " + strings.ToLower(FormatLabel(format))
}

// paragraphs splits text at blank lines and folds each paragraph to one line.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = oneLine(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// oneLine folds line breaks and other control characters to single spaces,
// so text from a form (a name) cannot add lines to the plain-text part.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// linkTags writes a link's ses:tags attribute value from name, value pairs:
// "name1:value1;name2:value2;".
func linkTags(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString(pairs[i] + ":" + pairs[i+1] + ";")
	}
	return b.String()
}
