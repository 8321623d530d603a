package wug

import (
	"strings"
	"time"
)

// Wire types of the WUG REST API v1 (2026.0 contract). Ids are strings on
// the wire except where the contract says int32 or uuid. Optional fields use
// omitempty so requests carry only what the caller set.

// State is a device or monitor state.
type State string

// Device and monitor states.
const (
	StateUnknown     State = "Unknown"
	StateUp          State = "Up"
	StateDown        State = "Down"
	StateMaintenance State = "Maintenance"
	StateAny         State = "Any"
	// StateUpWithDownMonitors is accepted only as a search filter.
	StateUpWithDownMonitors State = "UpWithDownMonitors"
)

// DeviceView selects how much of a device WUG returns.
type DeviceView string

// Device views.
const (
	ViewID       DeviceView = "id"
	ViewBasic    DeviceView = "basic"
	ViewCard     DeviceView = "card"
	ViewOverview DeviceView = "overview"
)

// Device is WUG's DeviceOverview: the device summary returned by listings,
// searches, GET /devices/{id} and scan results. The display name is Name.
type Device struct {
	ID                      string          `json:"id"`
	Name                    string          `json:"name,omitempty"`
	Description             string          `json:"description,omitempty"`
	HostName                string          `json:"hostName,omitempty"`
	NetworkAddress          string          `json:"networkAddress,omitempty"`
	Role                    string          `json:"role,omitempty"`
	Brand                   string          `json:"brand,omitempty"`
	OS                      string          `json:"os,omitempty"`
	Notes                   string          `json:"notes,omitempty"`
	BestState               State           `json:"bestState,omitempty"`
	WorstState              State           `json:"worstState,omitempty"`
	TotalActiveMonitors     int             `json:"totalActiveMonitors,omitempty"`
	TotalActiveMonitorsDown int             `json:"totalActiveMonitorsDown,omitempty"`
	DownActiveMonitors      []MonitorStatus `json:"downActiveMonitors,omitempty"`
}

// MonitorStatus is WUG's MonitorAssignmentStatus: one monitor's state on a device.
type MonitorStatus struct {
	ID              string `json:"id,omitempty"`
	State           State  `json:"state,omitempty"`
	Reason          string `json:"reason,omitempty"`
	LastChangeUTC   Time   `json:"lastChangeUtc,omitzero"`
	MonitorTypeID   string `json:"monitorTypeId,omitempty"`
	MonitorTypeName string `json:"monitorTypeName,omitempty"`
	Comment         string `json:"comment,omitempty"`
	Enabled         bool   `json:"enabled,omitempty"`
}

// DeviceStatus is a device's overall state (GET /devices/{id}/status).
type DeviceStatus struct {
	BestState     State `json:"bestState,omitempty"`
	WorstState    State `json:"worstState,omitempty"`
	LastChangeUTC Time  `json:"lastChangeUtc,omitzero"`
}

// NamedResource is a reference by id and/or name (WUG's NamedResource2),
// used for action policies.
type NamedResource struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// DeviceProperties are a device's editable properties
// (GET /devices/{id}/properties).
type DeviceProperties struct {
	ID                 string         `json:"id,omitempty"`
	DisplayName        string         `json:"displayName,omitempty"`
	IsWireless         bool           `json:"isWireless,omitempty"`
	CollectWireless    bool           `json:"collectWireless,omitempty"`
	KeepDetailsCurrent bool           `json:"keepDetailsCurrent,omitempty"`
	Note               string         `json:"note,omitempty"`
	SNMPOID            string         `json:"snmpOid,omitempty"`
	ActionPolicy       *NamedResource `json:"actionPolicy,omitempty"`
}

// PropertiesUpdate is the body of PUT /devices/{id}/properties
// (DevicePropertiesWithName). Nil fields are not sent and stay unchanged.
type PropertiesUpdate struct {
	DisplayName        *string        `json:"displayName,omitempty"`
	IsWireless         *bool          `json:"isWireless,omitempty"`
	CollectWireless    *bool          `json:"collectWireless,omitempty"`
	KeepDetailsCurrent *bool          `json:"keepDetailsCurrent,omitempty"`
	Note               *string        `json:"note,omitempty"`
	SNMPOID            *string        `json:"snmpOid,omitempty"`
	ActionPolicy       *NamedResource `json:"actionPolicy,omitempty"`
}

// RefreshOptions is WUG 2026's DeviceRefreshOptions, the body of a device
// refresh (rescan). The zero value asks for a plain refresh with no reset.
type RefreshOptions struct {
	UpdateNamesForTableActiveMonitor          bool `json:"updateNamesForTableActiveMonitor,omitempty"`
	UpdateEnableSettingsForTableActiveMonitor bool `json:"updateEnableSettingsForTableActiveMonitor,omitempty"`
	AddUseInRescanActiveMonitor               bool `json:"addUseInRescanActiveMonitor,omitempty"`
	IncludeAssignedRoles                      bool `json:"includeAssignedRoles,omitempty"`
	// ResetOptions name what to reset: inventory, resources, mac,
	// interfaces, roles, os, brand, snmp, displayName, attributes, notes,
	// default, monitors, primaryIp, history, credentials, allAttributes.
	ResetOptions           []string `json:"resetOptions,omitempty"`
	DropDataOlderThanHours int      `json:"dropDataOlderThanHours,omitempty"`
}

// Maintenance is a manual maintenance setting (MaintenanceConfigBasic).
type Maintenance struct {
	Enabled bool `json:"enabled"`
	// EndUTC ends maintenance at that time; nil leaves it open.
	EndUTC *time.Time `json:"endUtc,omitempty"`
	// Reason is at most 250 characters.
	Reason string `json:"reason,omitempty"`
}

// Attribute is a device attribute (DeviceAttribute). AttributeID is the id
// used in attribute paths.
type Attribute struct {
	AttributeID string `json:"attributeId,omitempty"`
	Name        string `json:"name"`
	Value       string `json:"value"`
	Discovered  string `json:"discovered,omitempty"`
	ID          string `json:"id,omitempty"`
}

// AttributeBatch is the body of PATCH /devices/{id}/attributes/-
// (BulkDeviceAttributeBatch). WUG runs the steps in field order.
type AttributeBatch struct {
	DeleteAllAttributes            bool                `json:"deleteAllAttributes,omitempty"`
	AttributesToDelete             []string            `json:"attributesToDelete,omitempty"`
	AttributeNamesToDelete         []string            `json:"attributeNamesToDelete,omitempty"`
	AttributeNameContainsToDelete  []string            `json:"attributeNameContainsToDelete,omitempty"`
	AttributeValueContainsToDelete []string            `json:"attributeValueContainsToDelete,omitempty"`
	AttributeToModify              []AttributeModifier `json:"attributeToModify,omitempty"`
	AttributesToAdd                []NameValue         `json:"attributesToAdd,omitempty"`
}

// AttributeModifier changes one attribute by id (DeviceAttributeModifier).
type AttributeModifier struct {
	AttributeID string `json:"attributeId"`
	Name        string `json:"name"`
	Value       string `json:"value"`
}

// NameValue is a name/value pair (DeviceAttributeNameValue, NameValuePair).
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SuccessResult is WUG's {"success": bool}.
type SuccessResult struct {
	Success bool `json:"success"`
}

// CountedResult is WUG's CountedSuccessResult, returned by batch calls.
type CountedResult struct {
	SuccessfulOperations int      `json:"successfulOperations"`
	ResourcesNotAllowed  []string `json:"resourcesNotAllowed,omitempty"`
	// ResourcesWithErrors is "resourcesWithErros" on the wire (sic, as the
	// contract spells it); the corrected "resourcesWithErrors" is read too.
	ResourcesWithErrors []string `json:"resourcesWithErros,omitempty"`
	Errors              []string `json:"errors,omitempty"`
	LimitReached        bool     `json:"limitReached,omitempty"`
	MaximumReached      bool     `json:"maximumReached,omitempty"`
	// Success is WUG's flag; when WUG leaves it out, a positive
	// SuccessfulOperations stands for it. false is a failure whatever the
	// counts.
	Success bool `json:"success"`
}

// ScanStarted is WUG's NamedResourceSuccessResult for calls that start a
// scan; ID is the scan id.
type ScanStarted struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Success     bool   `json:"success"`
}

// BulkDevices is {"devices": [ids]} (BulkDeviceBatch).
type BulkDevices struct {
	Devices []string `json:"devices"`
}

// Group is a device group (DeviceGroupSummary). Path is not on the wire:
// Groups.List fills it from the parent chain, e.g. "My Network/NetBox/Site A".
type Group struct {
	ID            string        `json:"id"`
	ParentGroupID string        `json:"parentGroupId,omitempty"`
	Name          string        `json:"name"`
	Description   string        `json:"description,omitempty"`
	Details       *GroupDetails `json:"details,omitempty"`
	Path          string        `json:"-"`
}

// GroupDetails are filled when a group is read with view=detail.
type GroupDetails struct {
	GroupType             string `json:"groupType,omitempty"`
	MonitorState          string `json:"monitorState,omitempty"`
	ChildrenCount         int    `json:"childrenCount,omitempty"`
	DeviceChildrenCount   int    `json:"deviceChildrenCount,omitempty"`
	DeviceDescendantCount int    `json:"deviceDescendantCount,omitempty"`
}

// NewGroup is the body of POST /device-groups/{parentId}/child
// (DeviceGroupCreation). GroupType is "static" (default), "dynamic" or "layer2".
type NewGroup struct {
	Name              string             `json:"name"`
	GroupType         string             `json:"groupType,omitempty"`
	DynamicDefinition *DynamicDefinition `json:"dynamicDefinition,omitempty"`
}

// DynamicDefinition is a dynamic group's SQL filter.
type DynamicDefinition struct {
	Filter string `json:"filter,omitempty"`
}

// GroupStatus is a group's state summary (OverallStatusSummary).
type GroupStatus struct {
	ID                 string         `json:"id,omitempty"`
	LastStateChangeUTC Time           `json:"lastStateChangeUtc,omitzero"`
	TotalDevices       int            `json:"totalDevices"`
	StateSummaries     []StateSummary `json:"stateSummaries,omitempty"`
}

// StateSummary counts devices in one state.
type StateSummary struct {
	State       State `json:"state"`
	DeviceCount int   `json:"deviceCount"`
}

// ScanOptions is WUG's NewDeviceOptions for newDevice scans. Pointer fields
// are sent only when set, so WUG's defaults apply otherwise (useAllCredentials,
// expand* and includeWirelessClients default to true).
type ScanOptions struct {
	ForceAdd                          bool     `json:"forceAdd,omitempty"`
	ForceCreate                       bool     `json:"forceCreate,omitempty"`
	ForceRole                         string   `json:"forceRole,omitempty"`
	PreferSNMPSystemNameAsDisplayName bool     `json:"preferSnmpSystemNameAsDisplayName,omitempty"`
	ResolveDNSHostNames               bool     `json:"resolveDNSHostNames,omitempty"`
	SNMPPortToUse                     int      `json:"snmpPortToUse,omitempty"`
	ExpandVirtualEnvironment          *bool    `json:"expandVirtualEnvironment,omitempty"`
	ExpandWirelessEnvironment         *bool    `json:"expandWirelessEnvironment,omitempty"`
	IncludeWirelessClients            *bool    `json:"includeWirelessClients,omitempty"`
	ExpandStorageEnvironment          *bool    `json:"expandStorageEnvironment,omitempty"`
	UseAllCredentials                 *bool    `json:"useAllCredentials,omitempty"`
	Credentials                       []string `json:"credentials,omitempty"`
	SetupAsPollByName                 bool     `json:"setupAsPollByName,omitempty"`
}

// bulkScanOptions is BulkNewDeviceOptions: ScanOptions plus ipOrNames.
type bulkScanOptions struct {
	IPOrNames []string `json:"ipOrNames"`
	ScanOptions
}

// ScanModel names the kind of scan.
type ScanModel string

// Scan models.
const (
	ScanModelAll       ScanModel = "all"
	ScanModelStandard  ScanModel = "standard"
	ScanModelNewDevice ScanModel = "newDevice"
	ScanModelRefresh   ScanModel = "refresh"
	ScanModelStaging   ScanModel = "staging"
	ScanModelRescan    ScanModel = "rescan"
)

// Scan is WUG's ActiveScan: a scan's progress.
type Scan struct {
	ID                string    `json:"id"`
	Name              string    `json:"name,omitempty"`
	Description       string    `json:"description,omitempty"`
	IsExport          bool      `json:"isExport,omitempty"`
	Progress          float64   `json:"progress"`
	Phase             string    `json:"phase,omitempty"`
	PhaseProgress     float64   `json:"phaseProgress,omitempty"`
	ScanUTC           Time      `json:"scanUtc,omitzero"`
	DevicesFound      int       `json:"devicesFound"`
	DevicesComplete   int       `json:"devicesComplete"`
	AddressResponsive int       `json:"addressResponsive,omitempty"`
	AddressAttempts   int       `json:"addressAttempts,omitempty"`
	AddressTotal      int       `json:"addressTotal,omitempty"`
	Model             ScanModel `json:"model,omitempty"`
	Type              string    `json:"type,omitempty"`
}

// ScanResults are the devices a scan updated (ScanDeviceSummaryList).
type ScanResults struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Devices     []Device `json:"devices"`
}

// ProductInfo is a list of name/value pairs (NameValuePairResults) from
// /product/version or /product/api.
type ProductInfo struct {
	Values []NameValue `json:"values"`
}

// Get returns the value named name (case-insensitive) and whether it exists.
func (p ProductInfo) Get(name string) (string, bool) {
	for _, v := range p.Values {
		if strings.EqualFold(v.Name, name) {
			return v.Value, true
		}
	}
	return "", false
}

// Paging is the paging block of a PageResult.
type Paging struct {
	PageID     string `json:"pageId,omitempty"`
	NextPageID string `json:"nextPageId,omitempty"`
	Size       int    `json:"size"`
}
