// Service Bus namespace and the OMS queues. Local (SAS) auth is disabled: senders and
// receivers use Microsoft Entra ID (roles in rbac.bicep).
param name string
param location string
param tags object = {}

@allowed([
  'Standard'
  'Premium'
])
param sku string = 'Standard'

param ordersQueueName string = 'orders'
param executionsQueueName string = 'executions'
param orderRequestsQueueName string = 'order-requests'
param venuesQueueName string = 'venues'

@description('How long Service Bus remembers message ids to drop duplicates (ISO 8601).')
param duplicateDetectionWindow string = 'PT10M'

@description('Deliveries before a message is moved to the dead-letter queue.')
param maxDeliveryCount int = 10

@description('Peek-lock duration; the matcher and the Functions host renew it while working.')
param lockDuration string = 'PT1M'

param defaultMessageTimeToLive string = 'P14D'

var standardSku = {
  name: 'Standard'
  tier: 'Standard'
}
// Premium is billed per messaging unit; one unit is the smallest.
var premiumSku = {
  name: 'Premium'
  tier: 'Premium'
  capacity: 1
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: sku == 'Premium' ? premiumSku : standardSku
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

// Commands to the matcher. One session per instrument (session id = symbol) gives strict
// per-instrument ordering and one owner per book; message id = command id for dedup.
resource ordersQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: ordersQueueName
  properties: {
    requiresSession: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    lockDuration: lockDuration
    defaultMessageTimeToLive: defaultMessageTimeToLive
  }
}

// Events from the matcher. Sessions keep one order's events in sequence; duplicate
// detection absorbs the matcher's re-publication after a restart (outbox replay).
resource executionsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: executionsQueueName
  properties: {
    requiresSession: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    lockDuration: lockDuration
    defaultMessageTimeToLive: defaultMessageTimeToLive
  }
}

// Order requests from bots. No sessions (intake is idempotent per account and
// client_order_id); duplicate detection drops a bot's blind resend of the same message id.
resource orderRequestsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: orderRequestsQueueName
  properties: {
    requiresSession: false
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    lockDuration: lockDuration
    defaultMessageTimeToLive: defaultMessageTimeToLive
  }
}

// Requests for external venues. One session per venue (session id = venue name): the
// gateway replica holding a venue's session lock owns its connection (the lease), and the
// venue's requests reach it in order; message id = the request's client order id.
resource venuesQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: venuesQueueName
  properties: {
    requiresSession: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    lockDuration: lockDuration
    defaultMessageTimeToLive: defaultMessageTimeToLive
  }
}

output id string = namespace.id
output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output ordersQueueName string = ordersQueue.name
output executionsQueueName string = executionsQueue.name
output orderRequestsQueueName string = orderRequestsQueue.name
output venuesQueueName string = venuesQueue.name
