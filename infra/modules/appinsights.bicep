// Application Insights (workspace-based). Local (instrumentation key) auth is disabled:
// telemetry is accepted only with a Microsoft Entra token (Monitoring Metrics Publisher).
param name string
param location string
param tags object = {}
param logAnalyticsWorkspaceId string

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: name
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalyticsWorkspaceId
    DisableLocalAuth: true
  }
}

output id string = appInsights.id
output name string = appInsights.name
// Not a secret: with local auth disabled it only identifies where to send telemetry.
output connectionString string = appInsights.properties.ConnectionString
