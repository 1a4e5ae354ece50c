package access

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// EventHubsConnectionString is an Event Hubs (Service Bus) connection string, as the Azure portal
// gives it: Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=RULE;SharedAccessKey=KEY;EntityPath=HUB.
// Every printed form is redacted: it holds a key.
type EventHubsConnectionString struct {
	// Raw is the connection string as given, for the SDK.
	Raw string
	// Host is the namespace's host name, from Endpoint, such as NS.servicebus.windows.net.
	Host string
	// KeyName is the shared access rule's name.
	KeyName string
	// Key is the rule's key.
	Key string
	// SharedAccessSignature is a SAS token given in place of a key name and key.
	SharedAccessSignature string
	// EntityPath is the event hub.
	EntityPath string
}

// String hides the material.
func (EventHubsConnectionString) String() string { return "[redacted]" }

// GoString hides the material from %#v.
func (EventHubsConnectionString) GoString() string {
	return "access.EventHubsConnectionString{[redacted]}"
}

// Format hides the material from every verb.
func (EventHubsConnectionString) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted]") }

// ParseEventHubsConnectionString reads an Event Hubs connection string. Keys are matched without
// regard to case, as the SDK matches them; Endpoint must be an sb:// URL with a host; either
// SharedAccessKeyName and SharedAccessKey, or SharedAccessSignature, must be set; EntityPath
// must name the event hub. Errors name what is wrong, never a value.
func ParseEventHubsConnectionString(s string) (EventHubsConnectionString, error) {
	c := EventHubsConnectionString{Raw: strings.TrimSpace(s)}
	if c.Raw == "" {
		return EventHubsConnectionString{}, errors.New("the Event Hubs connection string is empty")
	}
	var endpoint string
	for _, part := range strings.Split(c.Raw, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return EventHubsConnectionString{}, errors.New("the Event Hubs connection string holds a part that is not KEY=VALUE")
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "endpoint":
			endpoint = v
		case "sharedaccesskeyname":
			c.KeyName = v
		case "sharedaccesskey":
			c.Key = v
		case "sharedaccesssignature":
			c.SharedAccessSignature = v
		case "entitypath":
			c.EntityPath = v
		}
	}
	if endpoint == "" {
		return EventHubsConnectionString{}, errors.New("the Event Hubs connection string has no Endpoint: it must start Endpoint=sb://NAMESPACE.servicebus.windows.net/")
	}
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Scheme != "sb" || u.Hostname() == "" || u.User != nil {
		return EventHubsConnectionString{}, errors.New("the Endpoint of the Event Hubs connection string must be sb://NAMESPACE.servicebus.windows.net/")
	}
	c.Host = strings.ToLower(u.Hostname())
	switch {
	case c.SharedAccessSignature != "" && (c.KeyName != "" || c.Key != ""):
		return EventHubsConnectionString{}, errors.New("the Event Hubs connection string sets both SharedAccessSignature and SharedAccessKeyName/SharedAccessKey: keep one")
	case c.SharedAccessSignature == "" && (c.KeyName == "" || c.Key == ""):
		return EventHubsConnectionString{}, errors.New("the Event Hubs connection string needs SharedAccessKeyName and SharedAccessKey (or SharedAccessSignature)")
	}
	if c.EntityPath == "" {
		return EventHubsConnectionString{}, errors.New("the Event Hubs connection string has no EntityPath: copy the connection string of the event hub's shared access policy, or append ;EntityPath=HUB")
	}
	if strings.ContainsAny(c.EntityPath, "/?#") {
		return EventHubsConnectionString{}, errors.New("the EntityPath of the Event Hubs connection string must name one event hub")
	}
	return c, nil
}
