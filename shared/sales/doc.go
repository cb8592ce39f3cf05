// Package sales is the handoff of a sales-ready lead to sales. The Alerter
// sends the alert to the address Route picks, with the lead's story: the
// Dossier of who they are, what they read, clicked and answered, and why
// the score is what it is. The same dossier feeds the alert email, the
// webhook and the page, where the Desk records what sales decided: the
// lead accepted, or returned to nurture.
package sales
