// Cosmos DB for MongoDB (RU), serverless by default, with the OMS database and the
// collections the repositories use. Shard keys and unique indexes are declared here
// because Cosmos DB creates unique indexes only on an empty collection.
//
// Cosmos DB for MongoDB (RU) has no Microsoft Entra data-plane auth for MongoDB drivers,
// so its connection string is the one unavoidable secret: it is written straight into Key
// Vault (secret `mongodb-uri`) and never leaves the deployment as an output.
param name string
param location string
param tags object = {}
param databaseName string = 'oms'
param keyVaultName string
param secretName string = 'mongodb-uri'

@description('Serverless (pay per request) by default; false provisions autoscale throughput.')
param serverless bool = true

@description('Autoscale ceiling (RU/s) shared by the database when serverless is false.')
param autoscaleMaxThroughput int = 1000

// On a sharded collection Cosmos DB (like MongoDB) enforces a unique index only when the
// shard key is part of it, so every unique index starts with the collection's shard key.
// The same indexes as shared/adapters/mongo/indexes.py (INDEXES): the adapter's start-up
// check then finds them all and creates nothing, which matters because keys may not change
// metadata here (disableKeyBasedMetadataWriteAccess). tests/infra/test_cosmos.py keeps both equal.
var collections = [
  {
    name: 'orders'
    shardKey: 'account_id'
    indexes: [
      { key: { keys: ['_id'] } }
      { key: { keys: ['account_id', 'client_order_id'] }, options: { unique: true } }
      { key: { keys: ['account_id', 'created_at', '_id'] } }
      { key: { keys: ['dispatched', 'created_at'] } }
      { key: { keys: ['status', 'updated_at'] } }
    ]
  }
  {
    name: 'executions'
    shardKey: 'account_id'
    indexes: [
      { key: { keys: ['_id'] } }
      { key: { keys: ['account_id', 'execution_id'] }, options: { unique: true } }
      { key: { keys: ['account_id', 'order_id', 'executed_at'] } }
      { key: { keys: ['account_id', 'executed_at', '_id'] } }
      { key: { keys: ['symbol', 'executed_at', '_id'] } }
    ]
  }
  {
    name: 'journal'
    shardKey: 'symbol'
    indexes: [
      { key: { keys: ['_id'] } }
      { key: { keys: ['symbol', 'command_id'] }, options: { unique: true } }
      { key: { keys: ['symbol', 'first_seq'] }, options: { unique: true } }
      { key: { keys: ['symbol', 'last_seq'] } }
    ]
  }
  {
    name: 'journal_marks'
    shardKey: 'symbol'
    indexes: [
      { key: { keys: ['_id'] } }
    ]
  }
  {
    name: 'accounts'
    shardKey: 'account_id'
    indexes: [
      { key: { keys: ['_id'] } }
      { key: { keys: ['account_id', 'api_key_hash'] }, options: { unique: true } }
      { key: { keys: ['kind', 'account_id'] } }
    ]
  }
  {
    name: 'positions'
    shardKey: 'account_id'
    indexes: [
      { key: { keys: ['_id'] } }
      { key: { keys: ['account_id', 'symbol'] }, options: { unique: true } }
    ]
  }
  {
    name: 'instruments'
    shardKey: 'symbol'
    indexes: [
      { key: { keys: ['_id'] } }
    ]
  }
  {
    name: 'idempotency'
    shardKey: 'account_id'
    indexes: [
      { key: { keys: ['_id'] } }
      { key: { keys: ['account_id', 'key'] }, options: { unique: true } }
    ]
  }
  {
    name: 'venues'
    shardKey: 'name'
    indexes: [
      { key: { keys: ['_id'] } }
    ]
  }
  {
    name: 'venue_connections'
    shardKey: 'name'
    indexes: [
      { key: { keys: ['_id'] } }
    ]
  }
  {
    name: 'feed_streams'
    shardKey: 'stream'
    indexes: [
      { key: { keys: ['_id'] } }
    ]
  }
  {
    name: 'risk_ledgers'
    shardKey: 'account_id'
    indexes: [
      { key: { keys: ['_id'] } }
    ]
  }
  {
    name: 'cash_ledger'
    shardKey: 'account_id'
    indexes: [
      { key: { keys: ['_id'] } }
      { key: { keys: ['account_id', 'seq'] }, options: { unique: true } }
    ]
  }
  {
    name: 'audit'
    shardKey: 'target_id'
    indexes: [
      { key: { keys: ['_id'] } }
      { key: { keys: ['at', '_id'] } }
      { key: { keys: ['target_id', 'at', '_id'] } }
    ]
  }
  {
    name: 'venue_sessions'
    shardKey: 'key'
    indexes: [
      { key: { keys: ['_id'] } }
    ]
  }
]

var provisionedCapabilities = [
  { name: 'EnableMongo' }
]
var serverlessCapabilities = [
  { name: 'EnableMongo' }
  { name: 'EnableServerless' }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'MongoDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: serverless ? serverlessCapabilities : provisionedCapabilities
    apiProperties: {
      serverVersion: '6.0'
    }
    minimalTlsVersion: 'Tls12'
    // Keys may read and write data but not change databases, collections or indexes.
    disableKeyBasedMetadataWriteAccess: true
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/mongodbDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: serverless ? {} : { autoscaleSettings: { maxThroughput: autoscaleMaxThroughput } }
  }
}

resource collection 'Microsoft.DocumentDB/databaseAccounts/mongodbDatabases/collections@2024-11-15' = [
  for c in collections: {
    parent: database
    name: c.name
    properties: {
      resource: {
        id: c.name
        shardKey: {
          '${c.shardKey}': 'Hash'
        }
        indexes: c.indexes
      }
    }
  }
]

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource mongoSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: secretName
  properties: {
    contentType: 'MongoDB connection string'
    value: account.listConnectionStrings().connectionStrings[0].connectionString
  }
}

output id string = account.id
output name string = account.name
output databaseName string = database.name
output secretName string = mongoSecret.name
// The versionless URI (always the latest version); the value itself is never output.
output secretUri string = mongoSecret.properties.secretUri
