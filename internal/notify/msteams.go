package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// msTeams posts to a Microsoft Teams incoming webhook what Flux posts: an Adaptive Card (1.4) for
// a Workflows URL, and the legacy MessageCard for an Office 365 connector (a host under
// .webhook.office.com).
type msTeams struct {
	client  *http.Client
	address string
	legacy  bool
}

// newMSTeams returns the sender for a Teams webhook URL: a MessageCard for an Office 365
// connector, an Adaptive Card for any other, such as a Workflows URL; false for no URL.
func newMSTeams(client *http.Client, address string) (*msTeams, bool) {
	u, err := url.ParseRequestURI(address)
	if err != nil || u.Host == "" {
		return nil, false
	}
	return &msTeams{client: client, address: address, legacy: strings.HasSuffix(strings.ToLower(u.Hostname()), ".webhook.office.com")}, true
}

func (t *msTeams) send(ctx context.Context, e Event) error {
	body, err := t.card(e)
	if err != nil {
		return err
	}
	return post(ctx, t.client, t.address, body, nil)
}

// teamsBudget is the most Azimuth posts to Teams. Teams refuses a message over 28 KB, and has
// been seen to count a body sent as UTF-8 in UTF-16, two bytes a character: 14 KB of UTF-8 is
// under the limit either way.
const teamsBudget = 14 << 10

// card is the JSON of e's card, within teamsBudget: a longer message (a Kustomization's change
// set of hundreds of objects, say) is cut, saying how much was left out, and then the metadata
// values, rather than posting a card that Teams would refuse.
func (t *msTeams) card(e Event) ([]byte, error) {
	objName := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name + "." + e.InvolvedObject.Namespace
	whole := e.Message
	for {
		var payload any = adaptiveCard(&e, objName)
		if t.legacy {
			payload = messageCard(&e, objName)
		}
		body, err := json.Marshal(payload)
		over := len(body) - teamsBudget
		if err != nil || over <= 0 {
			return body, err
		}
		// Each byte of the message is at least one byte of JSON: cutting over bytes more than
		// the note adds brings the card within the budget, unless the rest of it is too long.
		if keep := len(e.Message) - cutNoteRoom - over; keep > 0 {
			cut := clip.String(whole, keep)
			e.Message = cut + fmt.Sprintf(teamsCutNote, len(whole)-len(cut)+len(clip.Mark))
			continue
		}
		if shortened := clipMetadata(&e); !shortened {
			return nil, fmt.Errorf("the card of this event is %d bytes with its message and metadata cut, over the %d that fit a Teams message", len(body), teamsBudget)
		}
	}
}

// teamsCutNote ends a message cut to fit a Teams card; cutNoteRoom is the most it takes in the
// card's JSON, where each newline escapes to two bytes and the count has up to five digits.
const (
	teamsCutNote = "\n\n(%d bytes left out: a Teams message holds at most 28 KB)"
	cutNoteRoom  = len(teamsCutNote) + 2 + 3
)

// maxFact is the longest metadata value a card keeps when the message alone cannot be cut enough.
const maxFact = 256

// clipMetadata cuts e's metadata values to maxFact bytes each, and reports whether any was longer.
func clipMetadata(e *Event) bool {
	shortened := false
	m := make(map[string]string, len(e.Metadata))
	for k, v := range e.Metadata {
		if len(v) > maxFact {
			v, shortened = clip.String(v, maxFact), true
		}
		m[k] = v
	}
	e.Metadata = m
	return shortened
}

// MessageCard is the legacy Office 365 connector card.
type MessageCard struct {
	Type       string               `json:"@type"`
	Context    string               `json:"@context"`
	ThemeColor string               `json:"themeColor"`
	Summary    string               `json:"summary"`
	Sections   []MessageCardSection `json:"sections"`
}

// MessageCardSection is a section of a MessageCard.
type MessageCardSection struct {
	ActivityTitle    string     `json:"activityTitle"`
	ActivitySubtitle string     `json:"activitySubtitle"`
	Facts            []CardFact `json:"facts"`
}

// CardFact is a name and value, in a MessageCard's facts.
type CardFact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func messageCard(e *Event, objName string) *MessageCard {
	facts := make([]CardFact, 0, len(e.Metadata))
	for _, k := range slices.Sorted(maps.Keys(e.Metadata)) {
		facts = append(facts, CardFact{Name: k, Value: e.Metadata[k]})
	}
	c := &MessageCard{
		Type: "MessageCard", Context: "http://schema.org/extensions", ThemeColor: "0076D7", Summary: objName,
		Sections: []MessageCardSection{{ActivityTitle: e.Message, ActivitySubtitle: objName, Facts: facts}},
	}
	if e.Severity == SeverityError {
		c.ThemeColor = "FF0000"
	}
	return c
}

// AdaptiveCardMessage is a Teams message holding one Adaptive Card.
type AdaptiveCardMessage struct {
	Type        string               `json:"type"`
	Attachments []AdaptiveAttachment `json:"attachments"`
}

// AdaptiveAttachment is the card of an AdaptiveCardMessage.
type AdaptiveAttachment struct {
	ContentType string       `json:"contentType"`
	Content     AdaptiveCard `json:"content"`
}

// AdaptiveCard is an Adaptive Card, version 1.4 (the last Teams renders).
type AdaptiveCard struct {
	Schema  string            `json:"$schema"`
	Type    string            `json:"type"`
	Version string            `json:"version"`
	Body    []AdaptiveElement `json:"body"`
	MSTeams map[string]string `json:"msteams"`
}

// AdaptiveElement is a Container, a TextBlock or a FactSet.
type AdaptiveElement struct {
	Type   string            `json:"type"`
	Items  []AdaptiveElement `json:"items,omitempty"`
	Text   string            `json:"text,omitempty"`
	Size   string            `json:"size,omitempty"`
	Weight string            `json:"weight,omitempty"`
	Color  string            `json:"color,omitempty"`
	Wrap   bool              `json:"wrap,omitempty"`
	Facts  []AdaptiveFact    `json:"facts,omitempty"`
}

// AdaptiveFact is a title and value, in a FactSet.
type AdaptiveFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

func adaptiveCard(e *Event, objName string) *AdaptiveCardMessage {
	message := AdaptiveElement{Type: "TextBlock", Text: e.Message, Wrap: true}
	if e.Severity == SeverityError {
		message.Color = "attention"
	}
	// summary first, then the other metadata by key, as Flux orders them.
	var facts []AdaptiveFact
	if s, ok := e.Metadata[MetaSummary]; ok {
		facts = append(facts, AdaptiveFact{Title: MetaSummary, Value: s})
	}
	for _, k := range slices.Sorted(maps.Keys(e.Metadata)) {
		if k != MetaSummary {
			facts = append(facts, AdaptiveFact{Title: k, Value: e.Metadata[k]})
		}
	}
	return &AdaptiveCardMessage{Type: "message", Attachments: []AdaptiveAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content: AdaptiveCard{
			Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
			MSTeams: map[string]string{"width": "Full"},
			Body: []AdaptiveElement{{Type: "Container", Items: []AdaptiveElement{
				{Type: "TextBlock", Text: objName, Size: "large", Weight: "bolder", Wrap: true},
				message,
				{Type: "FactSet", Facts: facts},
			}}},
		},
	}}}
}
