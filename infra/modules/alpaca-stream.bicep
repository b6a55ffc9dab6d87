// The `alpaca-stream` service: Alpaca's trade_updates WebSocket (wss://<fqdn>/stream), a
// container app because a Function App cannot hold WebSockets. It relays each connected
// bot's account feed as a SignalR client of the same SignalR Service the API pushes to (a
// token per account through :generateToken, with this app's identity), and checks bots'
// keys against the store (Cosmos DB for MongoDB, its connection string from Key Vault).
//
// Azure Web PubSub was the other candidate: its clients must fetch a Web PubSub access token
// and connect to the service's own URL and subprotocols, which alpaca-py (an unchanged
// Alpaca client sending `authenticate` with its key and secret) cannot do; a container app
// speaks Alpaca's protocol itself, with the same code as the local run.
//
// Scaling: at least one replica (bots hold their connections); more under concurrent load.
param name string
param location string
param tags object = {}

param containerAppsEnvironmentId string
param registryLoginServer string
param identityId string
param identityClientId string

@description('Image set by azd deploy (SERVICE_ALPACA_STREAM_IMAGE_NAME); a placeholder before the first deploy.')
param imageName string = ''

@minValue(1)
param maxReplicas int = 4

@description('Concurrent connections per replica before another replica is added.')
param concurrentConnections int = 1000

param cpu string = '0.5'
param memory string = '1Gi'

param applicationInsightsConnectionString string
param mongoSecretUri string
param mongoDatabaseName string
param ordersQueueName string
param executionsQueueName string
param orderRequestsQueueName string
param signalREndpoint string
param signalRHub string
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
var port = 8080

var probes = [
  {
    type: 'Startup'
    httpGet: { path: '/healthz', port: port }
    initialDelaySeconds: 3
    periodSeconds: 5
    failureThreshold: 24
  }
  {
    type: 'Liveness'
    httpGet: { path: '/healthz', port: port }
    periodSeconds: 15
    failureThreshold: 4
  }
]

resource stream 'Microsoft.App/containerApps@2025-01-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'alpaca-stream' })
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
      ingress: {
        external: true
        targetPort: port
        transport: 'http' // HTTP/1.1 upgrades to WebSocket through the ingress
        allowInsecure: false
      }
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
          name: 'alpaca-stream'
          image: hasImage ? imageName : placeholderImage
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          // Every setting name, as in the other apps; what the stream does not use is empty
          // (no Service Bus, no Redis, no snapshots: it only reads accounts and relays feeds).
          env: [
            { name: 'OMS_DATA_DIR', value: '/tmp/oms' }
            { name: 'OMS_ADMIN_API_KEY', value: '' }
            { name: 'OMS_HOST', value: '0.0.0.0' }
            { name: 'OMS_PORT', value: string(port) }
            { name: 'OMS_DEMO_MARKET', value: 'false' }
            { name: 'OMS_PAPER_STARTING_CASH', value: '100000' }
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'MONGODB_URI', secretRef: 'mongodb-uri' }
            { name: 'MONGODB_DATABASE', value: mongoDatabaseName }
            { name: 'SERVICEBUS_FULLY_QUALIFIED_NAMESPACE', value: '' }
            { name: 'SERVICEBUS_CONNECTION_STRING', value: '' }
            { name: 'ORDERS_QUEUE', value: ordersQueueName }
            { name: 'EXECUTIONS_QUEUE', value: executionsQueueName }
            { name: 'ORDER_REQUESTS_QUEUE', value: orderRequestsQueueName }
            { name: 'REDIS_URL', value: '' }
            { name: 'REDIS_USE_ENTRA_ID', value: 'false' }
            { name: 'SIGNALR_ENDPOINT', value: signalREndpoint }
            { name: 'SIGNALR_ACCESS_KEY', value: '' }
            { name: 'SIGNALR_HUB', value: signalRHub }
            { name: 'SNAPSHOTS_BLOB_SERVICE_URL', value: '' }
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
            name: 'connections'
            http: {
              metadata: {
                concurrentRequests: string(concurrentConnections)
              }
            }
          }
        ]
      }
    }
  }
}

output id string = stream.id
output name string = stream.name
output uri string = 'wss://${stream.properties.configuration.ingress.fqdn}/stream'
