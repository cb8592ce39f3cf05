package report

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// Claims keep the weekly digest to once a week: the claim of a week is
// one conditional write, made before anything is sent, given back when
// SES refused the mail (store.ClaimDigest, as the sales digests use it).
type Claims interface {
	ClaimDigest(ctx context.Context, owner, day string) (bool, error)
	ReleaseDigest(ctx context.Context, owner, day string) error
}

// Digest mails reports.to, once a week, the headline numbers of the week
// before (Monday to Sunday, UTC days), their change against the week
// before that, and a fresh link to the results page.
type Digest struct {
	Program *program.Program
	Rollup  *Rollup
	Claims  Claims
	Mailer  mail.Mailer
	Signer  *token.Signer
	BaseURL string
	Log     *slog.Logger
}

// digestOwner names the weekly digest's claim among the sales owners'.
const digestOwner = "results-digest"

// DigestHour is when on Monday (UTC) the digest is due: the week's last
// day is rolled up by then (DayGrace).
const DigestHour = 6

// KindResults is the digest's value of the kind tag.
const KindResults = "results"

// Send sends the week's digest if it is due at now and not sent yet,
// and says whether it went out.
func (d *Digest) Send(ctx context.Context, now time.Time) (bool, error) {
	to := d.Program.Reports.To
	if len(to) == 0 {
		return false, nil
	}
	monday := Day(now).AddDate(0, 0, -((int(now.UTC().Weekday()) + 6) % 7))
	if now.Before(monday.Add(DigestHour * time.Hour)) {
		monday = monday.AddDate(0, 0, -7) // this week's is not due yet: last week's may still be
	}
	week := monday.Format(DateLayout)
	ok, err := d.Claims.ClaimDigest(ctx, digestOwner, week)
	if err != nil || !ok {
		return false, err
	}
	per := Period{From: monday.AddDate(0, 0, -7), To: monday}
	days, err := d.Rollup.Read(ctx, per, now)
	if err == nil {
		var before []Summary
		if before, err = d.Rollup.Read(ctx, per.Before(), now); err == nil {
			rep := Compute(d.Program, per, days, before)
			err = d.mail(ctx, to, rep, now)
		}
	}
	if err != nil {
		if rerr := d.Claims.ReleaseDigest(ctx, digestOwner, week); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return false, fmt.Errorf("weekly results of %s: %w", week, err)
	}
	if d.Log != nil {
		d.Log.Info("weekly results sent", "week", week, "recipients", len(to))
	}
	return true, nil
}

// DigestMessage is the digest of a report, to one address.
func DigestMessage(p *program.Program, rep Report, to, resultsURL string) mail.Message {
	subject := "Program results, week of " + rep.Period.From.Format("2 Jan 2006")
	var text, body strings.Builder
	fmt.Fprintf(&text, "The program's results for %s, against the week before:\n\n", rep.Period)
	body.WriteString(`<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1d2330">`)
	fmt.Fprintf(&body, "<p>The program's results for %s, against the week before:</p><table>", html.EscapeString(rep.Period.String()))
	for _, f := range rep.Headline {
		fmt.Fprintf(&text, "  %-24s %8s   %s\n", f.Label, f.Value, f.Change())
		fmt.Fprintf(&body, `<tr><td>%s</td><td style="text-align:right;font-weight:700;padding:0 1em">%s</td><td>%s</td></tr>`,
			html.EscapeString(f.Label), html.EscapeString(f.Value), html.EscapeString(f.Change()))
	}
	fmt.Fprintf(&text, "\nThe funnel, content and what leads say: %s\n(the link works for %d days)\n", resultsURL, int(LinkTTL.Hours()/24))
	fmt.Fprintf(&body, `</table><p><a href="%s">Open the results</a>: the funnel, the content and what leads say (the link works for %d days).</p></body></html>`,
		html.EscapeString(resultsURL), int(LinkTTL.Hours()/24))
	return mail.Message{
		From: p.Sender.From, To: to, Subject: subject, Text: text.String(), HTML: body.String(),
		Tags: map[string]string{mail.TagKind: KindResults},
	}
}

func (d *Digest) mail(ctx context.Context, to []string, rep Report, now time.Time) error {
	url := LinkURL(d.Signer, d.BaseURL, now)
	for _, addr := range to {
		if _, err := d.Mailer.Send(ctx, DigestMessage(d.Program, rep, addr, url)); err != nil {
			return fmt.Errorf("send to %s: %w", program.Mailbox(addr), err)
		}
	}
	return nil
}
