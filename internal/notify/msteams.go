package notify

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// msTeams posts to a Microsoft Teams incoming webhook what Flux posts: an Adaptive Card (1.4) for
// a Workflows URL, and the legacy MessageCard for an Office 365 connector (a host under
// .webhook.office.com).
type msTeams struct {
	client  *http.Client
	address string
	legacy  bool
}

func (t *msTeams) send(ctx context.Context, e Event) error {
	objName := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name + "." + e.InvolvedObject.Namespace
	var payload any = adaptiveCard(&e, objName)
	if t.legacy {
		payload = messageCard(&e, objName)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	return post(ctx, t.client, t.address, body, nil)
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
