// Names for the contract's schemas, as the dashboard uses them. Nothing is written by hand:
// each is a type openapi-typescript generated from http/openapi.yaml (src/lib/api-schema.ts).
import type { components } from './api-schema';

type Schemas = components['schemas'];

export type Tenant = Schemas['Tenant'];
export type Me = Schemas['Me'];
export type EndpointStatus = Schemas['EndpointStatus'];
export type ExpectedStatus = Schemas['ExpectedStatus'];
export type Endpoint = Schemas['Endpoint'];
export type EndpointCreate = Schemas['EndpointCreate'];
export type PaginatedEndpointList = Schemas['PaginatedEndpointList'];
export type Check = Schemas['Check'];
export type Ping = Schemas['Ping'];
export type Plan = Schemas['Plan'];
export type TokenPair = Schemas['TokenPair'];
export type StatusPage = Schemas['StatusPage'];
export type StatusPageWritable = Schemas['StatusPageWritable'];
export type HttpMethod = Schemas['HttpMethod'];
export type Assertion = Schemas['Assertion'];
export type AssertionSource = Schemas['AssertionSource'];
export type AssertionComparison = Schemas['AssertionComparison'];
export type Uptime = Schemas['Uptime'];
export type UptimeWindow = Schemas['UptimeWindow'];
export type UptimeBucket = Schemas['UptimeBucket'];
export type ResponseTimes = Schemas['ResponseTimes'];
export type ResponseTimePoint = Schemas['ResponseTimePoint'];
export type EndpointIncident = Schemas['EndpointIncident'];
export type ChannelKind = Schemas['ChannelKind'];
export type Channel = Schemas['Channel'];
export type ChannelCreate = Schemas['ChannelCreate'];
export type Notification = Schemas['Notification'];
export type NotificationKind = Schemas['NotificationKind'];
export type DeliveryStatus = Schemas['DeliveryStatus'];
export type Incident = Schemas['Incident'];
export type IncidentDetail = Schemas['IncidentDetail'];
export type IncidentEvent = Schemas['IncidentEvent'];
export type MaintenanceWindow = Schemas['MaintenanceWindow'];
