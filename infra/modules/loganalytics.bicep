// Log Analytics workspace: the sink for Application Insights and Container Apps logs.
param name string
param location string
param tags object = {}
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    retentionInDays: retentionInDays
    sku: {
      name: 'PerGB2018'
    }
    features: {
      // Ingestion only through Azure Monitor pipelines (App Insights, diagnostic settings).
      disableLocalAuth: true
    }
  }
}

output id string = workspace.id
output name string = workspace.name
