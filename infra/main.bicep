// The whole OMS on Azure: `azd up` provisions this, then deploys `api` (Function App),
// `matcher`, `gateway` and `alpaca-stream` (Container Apps). Subscription scope; everything
// lives in one resource group.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; part of every resource name and tag.')
param environmentName string

@minLength(1)
@description('Primary location for all resources (must offer Flex Consumption).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Deploying user or CI principal (azd sets AZURE_PRINCIPAL_ID); gets data access for contract tests.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@allowed([
  'Standard'
  'Premium'
])
@description('Service Bus tier. Standard by default; Premium for isolation, VNet and larger messages.')
param serviceBusSku string = 'Standard'

@description('Cosmos DB serverless (pay per request) by default; false provisions autoscale RU/s.')
param cosmosServerless bool = true

@minValue(0)
@description('Always-ready Function App instances for HTTP (0 = scale from zero, cold starts possible).')
param apiAlwaysReadyInstances int = 0

@minValue(1)
@description('Matcher replica cap. Keep maxReplicas * matcherMaxSessions >= actively traded instruments; more replicas than ceil(instruments / sessions) only idle.')
param matcherMaxReplicas int = 4

@minValue(1)
@description('Sessions (instruments) one matcher replica holds at a time (MATCHER_MAX_SESSIONS).')
param matcherMaxSessions int = 8

@description('Matcher image, set by azd deploy (SERVICE_MATCHER_IMAGE_NAME).')
param matcherImageName string = ''

@description('Alpaca trade_updates stream image, set by azd deploy (SERVICE_ALPACA_STREAM_IMAGE_NAME).')
param alpacaStreamImageName string = ''

@minValue(1)
@description('Replica cap of the Alpaca trade_updates stream (one replica holds many connections).')
param alpacaStreamMaxReplicas int = 4

@description('Gateway image, set by azd deploy (SERVICE_GATEWAY_IMAGE_NAME).')
param gatewayImageName string = ''

@minValue(1)
@description('Gateway replicas: each venue is held by one, another takes it over when it goes.')
param gatewayReplicas int = 2

@description('Venue credentials for the gateway: [{ setting, secretName }], Key Vault secrets you add yourself, mapped to the setting names the venue definitions name.')
param gatewayVenueSecrets array = []

@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param redisSku string = 'Basic'

@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param signalRSku string = 'Free_F1'

@secure()
@description('Optional OMS admin API key; kept in Key Vault and referenced by the Function App.')
param omsAdminApiKey string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

// Names the code reads as settings (shared/config/settings.py defaults).
var mongoDatabaseName = 'oms'
var ordersQueueName = 'orders'
var executionsQueueName = 'executions'
var orderRequestsQueueName = 'order-requests'
var signalRHub = 'oms'
var snapshotsContainerName = 'snapshots'
var matcherBatchSize = 256
var matcherSnapshotEveryEvents = 10000
var matcherSnapshotEverySeconds = '60'
var matcherHealthPort = 8080
var venuesQueueName = 'venues'
var gatewayMaxVenues = 16
var gatewayHealthPort = 8080

var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module apiIdentity './modules/identity.bicep' = {
  name: 'api-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module matcherIdentity './modules/identity.bicep' = {
  name: 'matcher-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}matcher-${resourceToken}'
    location: location
    tags: tags
  }
}

module gatewayIdentity './modules/identity.bicep' = {
  name: 'gateway-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}gateway-${resourceToken}'
    location: location
    tags: tags
  }
}

module streamIdentity './modules/identity.bicep' = {
  name: 'alpaca-stream-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}stream-${resourceToken}'
    location: location
    tags: tags
  }
}

module logAnalytics './modules/loganalytics.bicep' = {
  name: 'loganalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    location: location
    tags: tags
  }
}

module appInsights './modules/appinsights.bicep' = {
  name: 'appinsights'
  scope: rg
  params: {
    name: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: logAnalytics.outputs.id
  }
}

module storage './modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    snapshotsContainerName: snapshotsContainerName
  }
}

module serviceBus './modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: '${abbrs.serviceBusNamespaces}${resourceToken}'
    location: location
    tags: tags
    sku: serviceBusSku
    ordersQueueName: ordersQueueName
    executionsQueueName: executionsQueueName
    orderRequestsQueueName: orderRequestsQueueName
    venuesQueueName: venuesQueueName
  }
}

module keyVault './modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    omsAdminApiKey: omsAdminApiKey
  }
}

module cosmos './modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: '${abbrs.documentDBMongoDatabaseAccounts}${resourceToken}'
    location: location
    tags: tags
    databaseName: mongoDatabaseName
    keyVaultName: keyVault.outputs.name
    serverless: cosmosServerless
  }
}

module redis './modules/redis.bicep' = {
  name: 'redis'
  scope: rg
  params: {
    name: '${abbrs.cacheRedis}${resourceToken}'
    location: location
    tags: tags
    sku: redisSku
  }
}

module signalR './modules/signalr.bicep' = {
  name: 'signalr'
  scope: rg
  params: {
    name: '${abbrs.signalRServiceSignalR}${resourceToken}'
    location: location
    tags: tags
    sku: signalRSku
  }
}

module registry './modules/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: {
    name: '${abbrs.containerRegistryRegistries}${resourceToken}'
    location: location
    tags: tags
  }
}

module containerAppsEnvironment './modules/containerapps-env.bicep' = {
  name: 'containerapps-env'
  scope: rg
  params: {
    name: '${abbrs.appManagedEnvironments}${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: logAnalytics.outputs.id
  }
}

module rbac './modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    apiPrincipalId: apiIdentity.outputs.principalId
    matcherPrincipalId: matcherIdentity.outputs.principalId
    streamPrincipalId: streamIdentity.outputs.principalId
    gatewayPrincipalId: gatewayIdentity.outputs.principalId
    principalId: principalId
    principalType: principalType
    storageAccountName: storage.outputs.name
    snapshotsContainerName: snapshotsContainerName
    serviceBusNamespaceName: serviceBus.outputs.name
    ordersQueueName: serviceBus.outputs.ordersQueueName
    executionsQueueName: serviceBus.outputs.executionsQueueName
    orderRequestsQueueName: serviceBus.outputs.orderRequestsQueueName
    venuesQueueName: serviceBus.outputs.venuesQueueName
    gatewayVenueSecretNames: [for s in gatewayVenueSecrets: s.secretName]
    keyVaultName: keyVault.outputs.name
    mongoSecretName: cosmos.outputs.secretName
    adminApiKeySecretName: keyVault.outputs.adminApiKeySecretName
    redisName: redis.outputs.name
    signalRName: signalR.outputs.name
    registryName: registry.outputs.name
    appInsightsName: appInsights.outputs.name
  }
}

module api './modules/functionapp.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: apiIdentity.outputs.id
    identityClientId: apiIdentity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    alwaysReadyInstances: apiAlwaysReadyInstances
    applicationInsightsConnectionString: appInsights.outputs.connectionString
    mongoSecretUri: cosmos.outputs.secretUri
    mongoDatabaseName: mongoDatabaseName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    ordersQueueName: serviceBus.outputs.ordersQueueName
    executionsQueueName: serviceBus.outputs.executionsQueueName
    orderRequestsQueueName: serviceBus.outputs.orderRequestsQueueName
    redisUrl: redis.outputs.url
    signalREndpoint: signalR.outputs.endpoint
    signalRHub: signalRHub
    snapshotsBlobServiceUrl: storage.outputs.blobEndpoint
    snapshotsContainerName: snapshotsContainerName
    adminApiKeySecretUri: keyVault.outputs.adminApiKeySecretUri
    matcherMaxSessions: matcherMaxSessions
    matcherBatchSize: matcherBatchSize
    matcherSnapshotEveryEvents: matcherSnapshotEveryEvents
    matcherSnapshotEverySeconds: matcherSnapshotEverySeconds
    matcherHealthPort: matcherHealthPort
    venuesQueueName: serviceBus.outputs.venuesQueueName
    gatewayMaxVenues: gatewayMaxVenues
    gatewayHealthPort: gatewayHealthPort
  }
  // Roles first, so the host's identity connections and Key Vault references work at start.
  dependsOn: [
    rbac
  ]
}

module matcher './modules/matcher.bicep' = {
  name: 'matcher'
  scope: rg
  params: {
    name: '${abbrs.appContainerApps}matcher-${resourceToken}'
    location: location
    tags: tags
    containerAppsEnvironmentId: containerAppsEnvironment.outputs.id
    registryLoginServer: registry.outputs.loginServer
    identityId: matcherIdentity.outputs.id
    identityClientId: matcherIdentity.outputs.clientId
    imageName: matcherImageName
    maxReplicas: matcherMaxReplicas
    applicationInsightsConnectionString: appInsights.outputs.connectionString
    mongoSecretUri: cosmos.outputs.secretUri
    mongoDatabaseName: mongoDatabaseName
    serviceBusNamespaceName: serviceBus.outputs.name
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    ordersQueueName: serviceBus.outputs.ordersQueueName
    executionsQueueName: serviceBus.outputs.executionsQueueName
    orderRequestsQueueName: serviceBus.outputs.orderRequestsQueueName
    redisUrl: redis.outputs.url
    signalREndpoint: signalR.outputs.endpoint
    signalRHub: signalRHub
    snapshotsBlobServiceUrl: storage.outputs.blobEndpoint
    snapshotsContainerName: snapshotsContainerName
    matcherMaxSessions: matcherMaxSessions
    matcherBatchSize: matcherBatchSize
    matcherSnapshotEveryEvents: matcherSnapshotEveryEvents
    matcherSnapshotEverySeconds: matcherSnapshotEverySeconds
    matcherHealthPort: matcherHealthPort
    venuesQueueName: serviceBus.outputs.venuesQueueName
    gatewayMaxVenues: gatewayMaxVenues
    gatewayHealthPort: gatewayHealthPort
  }
  // Key Vault secret reference and image pull need the matcher's roles at creation.
  dependsOn: [
    rbac
  ]
}

module gateway './modules/gateway.bicep' = {
  name: 'gateway'
  scope: rg
  params: {
    name: '${abbrs.appContainerApps}gateway-${resourceToken}'
    location: location
    tags: tags
    containerAppsEnvironmentId: containerAppsEnvironment.outputs.id
    registryLoginServer: registry.outputs.loginServer
    identityId: gatewayIdentity.outputs.id
    identityClientId: gatewayIdentity.outputs.clientId
    imageName: gatewayImageName
    replicas: gatewayReplicas
    venueSecrets: gatewayVenueSecrets
    keyVaultEndpoint: keyVault.outputs.endpoint
    applicationInsightsConnectionString: appInsights.outputs.connectionString
    mongoSecretUri: cosmos.outputs.secretUri
    mongoDatabaseName: mongoDatabaseName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    ordersQueueName: serviceBus.outputs.ordersQueueName
    executionsQueueName: serviceBus.outputs.executionsQueueName
    orderRequestsQueueName: serviceBus.outputs.orderRequestsQueueName
    redisUrl: redis.outputs.url
    signalREndpoint: signalR.outputs.endpoint
    signalRHub: signalRHub
    snapshotsBlobServiceUrl: storage.outputs.blobEndpoint
    snapshotsContainerName: snapshotsContainerName
    matcherMaxSessions: matcherMaxSessions
    matcherBatchSize: matcherBatchSize
    matcherSnapshotEveryEvents: matcherSnapshotEveryEvents
    matcherSnapshotEverySeconds: matcherSnapshotEverySeconds
    matcherHealthPort: matcherHealthPort
    venuesQueueName: serviceBus.outputs.venuesQueueName
    gatewayMaxVenues: gatewayMaxVenues
    gatewayHealthPort: gatewayHealthPort
  }
  // Key Vault secret references and image pull need the gateway's roles at creation.
  dependsOn: [
    rbac
  ]
}

module alpacaStream './modules/alpaca-stream.bicep' = {
  name: 'alpaca-stream'
  scope: rg
  params: {
    name: '${abbrs.appContainerApps}stream-${resourceToken}'
    location: location
    tags: tags
    containerAppsEnvironmentId: containerAppsEnvironment.outputs.id
    registryLoginServer: registry.outputs.loginServer
    identityId: streamIdentity.outputs.id
    identityClientId: streamIdentity.outputs.clientId
    imageName: alpacaStreamImageName
    maxReplicas: alpacaStreamMaxReplicas
    applicationInsightsConnectionString: appInsights.outputs.connectionString
    mongoSecretUri: cosmos.outputs.secretUri
    mongoDatabaseName: mongoDatabaseName
    ordersQueueName: serviceBus.outputs.ordersQueueName
    executionsQueueName: serviceBus.outputs.executionsQueueName
    orderRequestsQueueName: serviceBus.outputs.orderRequestsQueueName
    signalREndpoint: signalR.outputs.endpoint
    signalRHub: signalRHub
    snapshotsContainerName: snapshotsContainerName
    matcherMaxSessions: matcherMaxSessions
    matcherBatchSize: matcherBatchSize
    matcherSnapshotEveryEvents: matcherSnapshotEveryEvents
    matcherSnapshotEverySeconds: matcherSnapshotEverySeconds
    matcherHealthPort: matcherHealthPort
    venuesQueueName: serviceBus.outputs.venuesQueueName
    gatewayMaxVenues: gatewayMaxVenues
    gatewayHealthPort: gatewayHealthPort
  }
  // Key Vault secret reference and image pull need the stream's roles at creation.
  dependsOn: [
    rbac
  ]
}

// Outputs become azd environment values (and, through the postprovision hook,
// local.settings.json). Endpoints and names only: no keys, no connection strings with keys.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_ENVIRONMENT_NAME string = containerAppsEnvironment.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.endpoint
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
// The web page: served by the Function App at its root (host.json routePrefix ""), on the
// same origin as the API and the SignalR negotiate.
output OMS_WEB_URL string = '${api.outputs.uri}/'
output SERVICE_MATCHER_NAME string = matcher.outputs.name
output SERVICE_GATEWAY_NAME string = gateway.outputs.name
output SERVICE_ALPACA_STREAM_NAME string = alpacaStream.outputs.name
// What a bot passes as TradingStream(url_override=...): wss://<stream app>/stream.
output ALPACA_STREAM_URL string = alpacaStream.outputs.uri
output MONGODB_URI_SECRET_NAME string = cosmos.outputs.secretName
output MONGODB_DATABASE string = mongoDatabaseName
output SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output ORDERS_QUEUE string = serviceBus.outputs.ordersQueueName
output EXECUTIONS_QUEUE string = serviceBus.outputs.executionsQueueName
output ORDER_REQUESTS_QUEUE string = serviceBus.outputs.orderRequestsQueueName
output VENUES_QUEUE string = serviceBus.outputs.venuesQueueName
output REDIS_URL string = redis.outputs.url
output REDIS_USE_ENTRA_ID bool = true
output SIGNALR_ENDPOINT string = signalR.outputs.endpoint
output SIGNALR_HUB string = signalRHub
output SNAPSHOTS_BLOB_SERVICE_URL string = storage.outputs.blobEndpoint
output SNAPSHOTS_CONTAINER string = snapshotsContainerName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = appInsights.outputs.connectionString
