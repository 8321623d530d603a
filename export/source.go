package export

import "github.com/wugsync/wugsync/netbox"

// *netbox.Client streams devices as the engine reads them.
var _ netBoxSource = (*netbox.Client)(nil)
