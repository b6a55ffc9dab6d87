// The `api` service: a Python 3.11 Function App on Flex Consumption. It runs as a
// user-assigned identity; host storage, Service Bus triggers, App Insights, Key Vault
// references and every SDK client authenticate with that identity (no keys).
//
// App settings: every field of shared/config/settings.py under its own name, plus the
// Functions host's identity-based connections (AzureWebJobsStorage__*, ServiceBusConnection__*).
// tests/infra/test_settings_names.py keeps the three lists (model, this file, the example) equal.
param name string
param planName string
param location string
param tags object = {}

param identityId string
param identityClientId string

param storageAccountName string
param deploymentContainerName string

@description('Always-ready instances for the HTTP trigger group (0 = scale from zero).')
param alwaysReadyInstances int = 0
param maximumInstanceCount int = 100
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

param applicationInsightsConnectionString string
param mongoSecretUri string
param mongoDatabaseName string
param serviceBusFullyQualifiedNamespace string
param ordersQueueName string
param executionsQueueName string
param orderRequestsQueueName string
param redisUrl string
param signalREndpoint string
param signalRHub string
param snapshotsBlobServiceUrl string
param snapshotsContainerName string
param adminApiKeySecretUri string = ''
param matcherMaxSessions int
param matcherBatchSize int
param matcherSnapshotEveryEvents int
param matcherSnapshotEverySeconds string
param matcherHealthPort int
param venuesQueueName string
param gatewayMaxVenues int
param gatewayHealthPort int

// Always-ready instances for the HTTP trigger group keep the API warm (billed while idle).
var alwaysReady = [
  {
    name: 'http'
    instanceCount: alwaysReadyInstances
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource api 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (MONGODB_URI) resolve with the user-assigned identity.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        alwaysReady: alwaysReadyInstances > 0 ? alwaysReady : []
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: api
  name: 'appsettings'
  properties: {
    // Functions host: identity-based connections.
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
    ServiceBusConnection__credential: 'managedidentity'
    ServiceBusConnection__clientId: identityClientId
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // The Python worker sends the app's OpenTelemetry traces, metrics and logs to
    // Application Insights itself (azure-monitor-opentelemetry, host.json telemetryMode).
    PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
    // Our own spans cover HTTP, the bus and the stores (as in the matcher's setup): none of
    // the distro's library instrumentations, each of which would add spans per call.
    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS: 'azure_sdk,django,fastapi,flask,psycopg2,requests,urllib,urllib3'

    // shared/config/settings.py: local-run settings get Azure-safe values.
    OMS_DATA_DIR: '/tmp/oms'
    OMS_ADMIN_API_KEY: empty(adminApiKeySecretUri) ? '' : '@Microsoft.KeyVault(SecretUri=${adminApiKeySecretUri})'
    OMS_HOST: '0.0.0.0'
    OMS_PORT: '7071'
    OMS_DEMO_MARKET: 'false'
    OMS_PAPER_STARTING_CASH: '100000'
    AZURE_CLIENT_ID: identityClientId
    MONGODB_URI: '@Microsoft.KeyVault(SecretUri=${mongoSecretUri})'
    MONGODB_DATABASE: mongoDatabaseName
    SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: serviceBusFullyQualifiedNamespace
    // Empty on purpose: Service Bus has local auth disabled; the identity is used.
    SERVICEBUS_CONNECTION_STRING: ''
    ORDERS_QUEUE: ordersQueueName
    EXECUTIONS_QUEUE: executionsQueueName
    ORDER_REQUESTS_QUEUE: orderRequestsQueueName
    REDIS_URL: redisUrl
    REDIS_USE_ENTRA_ID: 'true'
    SIGNALR_ENDPOINT: signalREndpoint
    // Empty on purpose: SignalR has local auth disabled; the identity is used.
    SIGNALR_ACCESS_KEY: ''
    SIGNALR_HUB: signalRHub
    SNAPSHOTS_BLOB_SERVICE_URL: snapshotsBlobServiceUrl
    // Empty on purpose: the storage account has shared keys disabled.
    SNAPSHOTS_CONNECTION_STRING: ''
    SNAPSHOTS_CONTAINER: snapshotsContainerName
    MATCHER_MAX_SESSIONS: string(matcherMaxSessions)
    MATCHER_BATCH_SIZE: string(matcherBatchSize)
    MATCHER_SNAPSHOT_EVERY_EVENTS: string(matcherSnapshotEveryEvents)
    MATCHER_SNAPSHOT_EVERY_SECONDS: matcherSnapshotEverySeconds
    MATCHER_HEALTH_PORT: string(matcherHealthPort)
    VENUES_QUEUE: venuesQueueName
    GATEWAY_MAX_VENUES: string(gatewayMaxVenues)
    // The gateway's own; unused by the api.
    GATEWAY_STATE_DIR: ''
    GATEWAY_HEALTH_PORT: string(gatewayHealthPort)
    OMS_LOG_LEVEL: 'INFO'
    OMS_LOG_FORMAT: 'json'
    OMS_METRICS: 'true'
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  }
}

// No publishing with user names and passwords: azd deploys with Microsoft Entra ID.
resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: api
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: api
  name: 'scm'
  properties: {
    allow: false
  }
}

output id string = api.id
output name string = api.name
output uri string = 'https://${api.properties.defaultHostName}'
