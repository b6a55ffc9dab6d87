// Azure SignalR Service in Serverless mode: the Function App negotiates client tokens and
// sends over the REST API with its managed identity; access keys are disabled.
param name string
param location string
param tags object = {}

@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param sku string = 'Free_F1'

param capacity int = 1

@description('Browser origins allowed to negotiate; narrow this for production.')
param allowedOrigins array = [
  '*'
]

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SignalR'
  sku: {
    name: sku
    capacity: capacity
  }
  properties: {
    features: [
      {
        flag: 'ServiceMode'
        value: 'Serverless'
      }
      {
        flag: 'EnableConnectivityLogs'
        value: 'True'
      }
    ]
    cors: {
      allowedOrigins: allowedOrigins
    }
    disableLocalAuth: true
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
    tls: {
      clientCertEnabled: false
    }
  }
}

output id string = signalR.id
output name string = signalR.name
output endpoint string = 'https://${signalR.properties.hostName}'
