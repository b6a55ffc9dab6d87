// The `gateway` service: a long-running container app (python -m gateway) that owns the
// connections to external venues (FIX sessions). A venue is held by holding its session
// on the `venues` queue: of all replicas exactly one owns a venue at a time.
//
// FIX session state: QuickFIX's store (sequence numbers, sent messages) lives in
// GATEWAY_STATE_DIR on a replica-scoped volume, and the sequence numbers are also kept in
// the database (gateway/fix/durable.py): a replica that takes a venue over from another,
// or replaces one, continues the venue's session from there (no sequence reset; the
// venue resends what it reported meanwhile). So several replicas run: each venue is held
// by one of them, and another takes it over when that one goes.
//
// Venue credentials: each entry of `venueSecrets` maps a Key Vault secret into the
// environment under the setting name the venue definition names (never a value here).
param name string
param location string
param tags object = {}

param containerAppsEnvironmentId string
param registryLoginServer string
param identityId string
param identityClientId string

@description('Image set by azd deploy (SERVICE_GATEWAY_IMAGE_NAME); a placeholder before the first deploy.')
param imageName string = ''

@minValue(1)
@description('Replicas (each venue has one owner at a time; the others stand by or hold other venues).')
param replicas int = 2

param cpu string = '0.5'
param memory string = '1Gi'

@description('Venue credentials: [{ setting: VENUE_ACME_PASSWORD, secretName: venue-acme-password }].')
param venueSecrets array = []
param keyVaultEndpoint string

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
var stateDir = '/var/lib/oms-gateway'

var probes = [
  {
    type: 'Startup'
    tcpSocket: { port: gatewayHealthPort }
    initialDelaySeconds: 5
    periodSeconds: 5
    failureThreshold: 24
  }
  {
    type: 'Liveness'
    tcpSocket: { port: gatewayHealthPort }
    periodSeconds: 15
    failureThreshold: 4
  }
]

var mongoSecret = [
  {
    name: 'mongodb-uri'
    keyVaultUrl: mongoSecretUri
    identity: identityId
  }
]
var credentialSecrets = [
  for s in venueSecrets: {
    name: toLower(replace(s.setting, '_', '-'))
    keyVaultUrl: '${keyVaultEndpoint}secrets/${s.secretName}'
    identity: identityId
  }
]
var credentialEnv = [
  for s in venueSecrets: {
    name: s.setting
    secretRef: toLower(replace(s.setting, '_', '-'))
  }
]

// Every setting of shared/config/settings.py (tests/infra/test_settings_names.py).
var settingsEnv = [
  { name: 'OMS_DATA_DIR', value: '/tmp/oms' }
  // The admin API is served by the Function App only.
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
  { name: 'GATEWAY_STATE_DIR', value: stateDir }
  { name: 'GATEWAY_HEALTH_PORT', value: string(gatewayHealthPort) }
  { name: 'OMS_LOG_LEVEL', value: 'INFO' }
  { name: 'OMS_LOG_FORMAT', value: 'json' }
  { name: 'OMS_METRICS', value: 'true' }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
]

resource gateway 'Microsoft.App/containerApps@2025-01-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'gateway' })
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
      // No ingress: the gateway takes requests from Service Bus and dials out to venues.
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
      secrets: concat(mongoSecret, credentialSecrets)
    }
    template: {
      containers: [
        {
          name: 'gateway'
          image: hasImage ? imageName : placeholderImage
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: concat(settingsEnv, credentialEnv)
          volumeMounts: [
            {
              volumeName: 'fix-state'
              mountPath: stateDir
            }
          ]
          probes: hasImage ? probes : []
        }
      ]
      volumes: [
        {
          name: 'fix-state'
          storageType: 'EmptyDir'
        }
      ]
      scale: {
        minReplicas: replicas
        maxReplicas: replicas
      }
    }
  }
}

output id string = gateway.id
output name string = gateway.name
