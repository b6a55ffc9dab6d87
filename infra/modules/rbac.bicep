// Every permission in the deployment, in one place. Each identity gets the narrowest
// built-in role at the narrowest scope its code needs:
//
//   api (Function App)   host storage + deployment package: Storage Blob Data Owner (account)
//                        send commands:      Service Bus Data Sender   (queue `orders`)
//                        triggers:           Service Bus Data Receiver (queues `order-requests`, `executions`)
//                        negotiate + REST:   SignalR Service Owner     (SignalR)
//                        MONGODB_URI ref:    Key Vault Secrets User    (secret `mongodb-uri`, admin key)
//                        cache:              Redis data access policy `Data Contributor`
//                        telemetry (AAD):    Monitoring Metrics Publisher (App Insights)
//   matcher (Container App)
//                        sessions + KEDA:    Service Bus Data Owner    (queue `orders` only; the
//                                            KEDA scaler reads queue runtime counts, which need
//                                            the Manage right; Owner on the one queue grants it)
//                        publish events:     Service Bus Data Sender   (queue `executions`)
//                        snapshots:          Storage Blob Data Contributor (container `snapshots`)
//                        image pull:         AcrPull                   (registry)
//                        L2 book / trades:   SignalR REST API Owner    (SignalR)
//                        MONGODB_URI ref:    Key Vault Secrets User    (secret `mongodb-uri`)
//                        cache:              Redis data access policy `Data Contributor`
//                        telemetry (AAD):    Monitoring Metrics Publisher (App Insights)
//   api                  wake a gateway:     Service Bus Data Sender   (queue `venues`)
//   gateway (Container App)
//                        venue sessions:     Service Bus Data Receiver (queue `venues`)
//                        image pull:         AcrPull                   (registry)
//                        MONGODB_URI ref:    Key Vault Secrets User    (secret `mongodb-uri`)
//                        venue credentials:  Key Vault Secrets User    (each named venue secret)
//                        admin feed:         SignalR REST API Owner    (SignalR; a venue down / up)
//                        telemetry (AAD):    Monitoring Metrics Publisher (App Insights)
//   alpaca-stream (Container App)
//                        image pull:         AcrPull                   (registry)
//                        client tokens:      SignalR REST API Owner    (SignalR; :generateToken)
//                        MONGODB_URI ref:    Key Vault Secrets User    (secret `mongodb-uri`)
//                        telemetry (AAD):    Monitoring Metrics Publisher (App Insights)
//   deploying user (principalId, optional): what the contract tests need against Azure.
//
// Cosmos DB for MongoDB (RU) has no data-plane RBAC for MongoDB drivers: its connection
// string lives in Key Vault (see cosmos.bicep).
param apiPrincipalId string
param matcherPrincipalId string
param gatewayPrincipalId string
param streamPrincipalId string

@description('The deploying user or CI principal; empty skips their assignments.')
param principalId string = ''
param principalType string = 'User'

param storageAccountName string
param snapshotsContainerName string
param serviceBusNamespaceName string
param ordersQueueName string
param executionsQueueName string
param orderRequestsQueueName string
param venuesQueueName string
@description('Key Vault secrets holding venue credentials, read by the gateway only.')
param gatewayVenueSecretNames array = []
param keyVaultName string
param mongoSecretName string
param adminApiKeySecretName string = ''
param redisName string
param signalRName string
param registryName string
param appInsightsName string

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  signalRServiceOwner: '7e4f1700-ea5a-4f59-8f37-079cfe29dce3'
  signalRRestApiOwner: 'fd53cd77-2268-407a-8f46-7e7863d0f521'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

var hasUser = !empty(principalId)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobServices 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource snapshotsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobServices
  name: snapshotsContainerName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource ordersQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBus
  name: ordersQueueName
}

resource executionsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBus
  name: executionsQueueName
}

resource orderRequestsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBus
  name: orderRequestsQueueName
}

resource venuesQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBus
  name: venuesQueueName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource mongoSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: keyVault
  name: mongoSecretName
}

resource adminApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: keyVault
  name: empty(adminApiKeySecretName) ? 'unused' : adminApiKeySecretName
}

resource venueSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = [
  for secretName in gatewayVenueSecretNames: {
    parent: keyVault
    name: secretName
  }
]

resource redis 'Microsoft.Cache/redis@2024-03-01' existing = {
  name: redisName
}

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' existing = {
  name: signalRName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// ---- api (Function App) ---------------------------------------------------------------

resource apiStorageBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, apiPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiOrdersSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ordersQueue.id, apiPrincipalId, roles.serviceBusDataSender)
  scope: ordersQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiOrderRequestsReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(orderRequestsQueue.id, apiPrincipalId, roles.serviceBusDataReceiver)
  scope: orderRequestsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiExecutionsReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(executionsQueue.id, apiPrincipalId, roles.serviceBusDataReceiver)
  scope: executionsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiSignalROwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(signalR.id, apiPrincipalId, roles.signalRServiceOwner)
  scope: signalR
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.signalRServiceOwner)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiMongoSecretUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(mongoSecret.id, apiPrincipalId, roles.keyVaultSecretsUser)
  scope: mongoSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiAdminKeySecretUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminApiKeySecretName)) {
  name: guid(adminApiKeySecret.id, apiPrincipalId, roles.keyVaultSecretsUser)
  scope: adminApiKeySecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, apiPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource apiRedisAccess 'Microsoft.Cache/redis/accessPolicyAssignments@2024-03-01' = {
  parent: redis
  name: guid(redis.id, apiPrincipalId, 'Data Contributor')
  properties: {
    accessPolicyName: 'Data Contributor'
    objectId: apiPrincipalId
    objectIdAlias: 'api'
  }
}

resource apiVenuesSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(venuesQueue.id, apiPrincipalId, roles.serviceBusDataSender)
  scope: venuesQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: apiPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- gateway (Container App) ----------------------------------------------------------

resource gatewayVenuesReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(venuesQueue.id, gatewayPrincipalId, roles.serviceBusDataReceiver)
  scope: venuesQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: gatewayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource gatewayAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, gatewayPrincipalId, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: gatewayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource gatewayMongoSecretUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(mongoSecret.id, gatewayPrincipalId, roles.keyVaultSecretsUser)
  scope: mongoSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: gatewayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource gatewaySignalRRest 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(signalR.id, gatewayPrincipalId, roles.signalRRestApiOwner)
  scope: signalR
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.signalRRestApiOwner)
    principalId: gatewayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource gatewayVenueSecretUsers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (secretName, i) in gatewayVenueSecretNames: {
    name: guid(venueSecrets[i].id, gatewayPrincipalId, roles.keyVaultSecretsUser)
    scope: venueSecrets[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
      principalId: gatewayPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource gatewayMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, gatewayPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: gatewayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- matcher (Container App) ----------------------------------------------------------

resource matcherOrdersOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ordersQueue.id, matcherPrincipalId, roles.serviceBusDataOwner)
  scope: ordersQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    principalId: matcherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource matcherExecutionsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(executionsQueue.id, matcherPrincipalId, roles.serviceBusDataSender)
  scope: executionsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: matcherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource matcherSnapshotsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(snapshotsContainer.id, matcherPrincipalId, roles.storageBlobDataContributor)
  scope: snapshotsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: matcherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource matcherAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, matcherPrincipalId, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: matcherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource matcherSignalRRest 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(signalR.id, matcherPrincipalId, roles.signalRRestApiOwner)
  scope: signalR
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.signalRRestApiOwner)
    principalId: matcherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource matcherMongoSecretUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(mongoSecret.id, matcherPrincipalId, roles.keyVaultSecretsUser)
  scope: mongoSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: matcherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource matcherMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, matcherPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: matcherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource matcherRedisAccess 'Microsoft.Cache/redis/accessPolicyAssignments@2024-03-01' = {
  parent: redis
  name: guid(redis.id, matcherPrincipalId, 'Data Contributor')
  properties: {
    accessPolicyName: 'Data Contributor'
    objectId: matcherPrincipalId
    objectIdAlias: 'matcher'
  }
  // Redis applies one access policy assignment change at a time.
  dependsOn: [
    apiRedisAccess
  ]
}

// ---- alpaca-stream (Container App) -----------------------------------------------------

resource streamAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, streamPrincipalId, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: streamPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource streamSignalRRest 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(signalR.id, streamPrincipalId, roles.signalRRestApiOwner)
  scope: signalR
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.signalRRestApiOwner)
    principalId: streamPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource streamMongoSecretUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(mongoSecret.id, streamPrincipalId, roles.keyVaultSecretsUser)
  scope: mongoSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: streamPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource streamMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, streamPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: streamPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- deploying user: contract tests against the deployed resources ---------------------

resource userServiceBusOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasUser) {
  name: guid(serviceBus.id, principalId, roles.serviceBusDataOwner)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    principalId: principalId
    principalType: principalType
  }
}

resource userStorageContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasUser) {
  name: guid(storage.id, principalId, roles.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

resource userMongoSecretUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasUser) {
  name: guid(mongoSecret.id, principalId, roles.keyVaultSecretsUser)
  scope: mongoSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: principalType
  }
}

resource userSignalROwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasUser) {
  name: guid(signalR.id, principalId, roles.signalRServiceOwner)
  scope: signalR
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.signalRServiceOwner)
    principalId: principalId
    principalType: principalType
  }
}

resource userRedisAccess 'Microsoft.Cache/redis/accessPolicyAssignments@2024-03-01' = if (hasUser) {
  parent: redis
  name: guid(redis.id, principalId, 'Data Contributor')
  properties: {
    accessPolicyName: 'Data Contributor'
    objectId: principalId
    objectIdAlias: 'deploying-user'
  }
  dependsOn: [
    matcherRedisAccess
  ]
}
