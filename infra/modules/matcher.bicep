// The `matcher` service: a long-running container app (python -m matcher) that accepts
// Service Bus sessions on `orders` (one session = one instrument = one in-memory book).
//
// Scaling: at least one replica always runs (min 1), so books stay warm. A KEDA
// azure-servicebus rule on `orders`, authenticated with the managed identity, adds replicas
// when commands queue up. Each replica holds at most MATCHER_MAX_SESSIONS sessions, so
// replicas beyond ceil(active instruments / MATCHER_MAX_SESSIONS) find no free session and
// idle: keep maxReplicas * MATCHER_MAX_SESSIONS >= the number of actively traded
// instruments, and maxReplicas no higher than that quotient rounded up.
param name string
param location string
param tags object = {}

param containerAppsEnvironmentId string
param registryLoginServer string
param identityId string
param identityClientId string

@description('Image set by azd deploy (SERVICE_MATCHER_IMAGE_NAME); a placeholder before the first deploy.')
param imageName string = ''

@minValue(1)
param maxReplicas int = 4

@description('Active messages per replica on `orders` before KEDA adds a replica.')
param scaleMessageCount int = 200

param cpu string = '1.0'
param memory string = '2Gi'

param applicationInsightsConnectionString string
param mongoSecretUri string
param mongoDatabaseName string
param serviceBusNamespaceName string
param serviceBusFullyQualifiedNamespace string
param ordersQueueName string
param executionsQueueName string
param orderRequestsQueueName string
param redisUrl string
param signalREndpoint string
param signalRHub string
param snapshotsBlobServiceUrl string
param snapshotsContainerName string
param matcherMaxSessions int
param matcherBatchSize int
param matcherSnapshotEveryEvents int
param matcherSnapshotEverySeconds string
param matcherHealthPort int
param venuesQueueName string
param gatewayMaxVenues int
param gatewayHealthPort int

var placeholderImage = 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest'
var hasImage = !empty(imageName)

// TCP probes on the health port; the placeholder image does not listen there.
var probes = [
  {
    type: 'Startup'
    tcpSocket: { port: matcherHealthPort }
    initialDelaySeconds: 5
    periodSeconds: 5
    failureThreshold: 24
  }
  {
    type: 'Liveness'
    tcpSocket: { port: matcherHealthPort }
    periodSeconds: 15
    failureThreshold: 4
  }
]

resource matcher 'Microsoft.App/containerApps@2025-01-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'matcher' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: containerAppsEnvironmentId
    configuration: {
      activeRevisionsMode: 'Single'
      // No ingress: the matcher takes work from Service Bus only. Its health port serves probes.
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
      secrets: [
        {
          name: 'mongodb-uri'
          keyVaultUrl: mongoSecretUri
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'matcher'
          image: hasImage ? imageName : placeholderImage
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: [
            { name: 'OMS_DATA_DIR', value: '/tmp/oms' }
            // The admin API is served by the Function App only; the matcher never needs the key.
            { name: 'OMS_ADMIN_API_KEY', value: '' }
            { name: 'OMS_HOST', value: '0.0.0.0' }
            { name: 'OMS_PORT', value: '7071' }
            { name: 'OMS_DEMO_MARKET', value: 'false' }
            { name: 'OMS_PAPER_STARTING_CASH', value: '100000' }
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'MONGODB_URI', secretRef: 'mongodb-uri' }
            { name: 'MONGODB_DATABASE', value: mongoDatabaseName }
            { name: 'SERVICEBUS_FULLY_QUALIFIED_NAMESPACE', value: serviceBusFullyQualifiedNamespace }
            { name: 'SERVICEBUS_CONNECTION_STRING', value: '' }
            { name: 'ORDERS_QUEUE', value: ordersQueueName }
            { name: 'EXECUTIONS_QUEUE', value: executionsQueueName }
            { name: 'ORDER_REQUESTS_QUEUE', value: orderRequestsQueueName }
            { name: 'REDIS_URL', value: redisUrl }
            { name: 'REDIS_USE_ENTRA_ID', value: 'true' }
            { name: 'SIGNALR_ENDPOINT', value: signalREndpoint }
            { name: 'SIGNALR_ACCESS_KEY', value: '' }
            { name: 'SIGNALR_HUB', value: signalRHub }
            { name: 'SNAPSHOTS_BLOB_SERVICE_URL', value: snapshotsBlobServiceUrl }
            { name: 'SNAPSHOTS_CONNECTION_STRING', value: '' }
            { name: 'SNAPSHOTS_CONTAINER', value: snapshotsContainerName }
            { name: 'MATCHER_MAX_SESSIONS', value: string(matcherMaxSessions) }
            { name: 'MATCHER_BATCH_SIZE', value: string(matcherBatchSize) }
            { name: 'MATCHER_SNAPSHOT_EVERY_EVENTS', value: string(matcherSnapshotEveryEvents) }
            { name: 'MATCHER_SNAPSHOT_EVERY_SECONDS', value: matcherSnapshotEverySeconds }
            { name: 'MATCHER_HEALTH_PORT', value: string(matcherHealthPort) }
            { name: 'VENUES_QUEUE', value: venuesQueueName }
            { name: 'GATEWAY_MAX_VENUES', value: string(gatewayMaxVenues) }
            { name: 'GATEWAY_STATE_DIR', value: '' }
            { name: 'GATEWAY_HEALTH_PORT', value: string(gatewayHealthPort) }
            { name: 'OMS_LOG_LEVEL', value: 'INFO' }
            { name: 'OMS_LOG_FORMAT', value: 'json' }
            { name: 'OMS_METRICS', value: 'true' }
            // Traces, metrics and logs to Application Insights with this app's identity
            // (AZURE_CLIENT_ID; Monitoring Metrics Publisher in rbac.bicep).
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
          ]
          probes: hasImage ? probes : []
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'orders-backlog'
            custom: {
              type: 'azure-servicebus'
              // KEDA reads the queue length as the matcher's managed identity (no SAS key).
              identity: identityId
              metadata: {
                namespace: serviceBusNamespaceName
                queueName: ordersQueueName
                messageCount: string(scaleMessageCount)
              }
            }
          }
        ]
      }
    }
  }
}

output id string = matcher.id
output name string = matcher.name
