import { gql } from '@apollo/client';

const INFLUENCER_ROW = gql`
  fragment InfluencerRow on Influencer {
    id
    handle
    displayName
    segments {
      id
      name
    }
  }
`;

// A page of influencers, as every list of them asks for it (Relay-style, for
// `relayStylePagination`).
const INFLUENCER_PAGE = gql`
  fragment InfluencerPage on InfluencerConnection {
    edges {
      cursor
      node {
        ...InfluencerRow
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
  ${INFLUENCER_ROW}
`;

export const SEGMENTS = gql`
  query Segments($after: String) {
    segments(first: 50, after: $after) {
      edges {
        cursor
        node {
          id
          name
          memberCount
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

export const ROSTER = gql`
  query Roster($search: String, $after: String) {
    influencers(first: 20, after: $after, search: $search) {
      totalCount
      ...InfluencerPage
    }
  }
  ${INFLUENCER_PAGE}
`;

export const UNASSIGNED = gql`
  query Unassigned($after: String) {
    unassigned(first: 20, after: $after) {
      totalCount
      ...InfluencerPage
    }
  }
  ${INFLUENCER_PAGE}
`;

export const MEMBERS = gql`
  query Members($id: ID!, $after: String) {
    segment(id: $id) {
      id
      name
      memberCount
      influencers(first: 20, after: $after) {
        ...InfluencerPage
      }
    }
  }
  ${INFLUENCER_PAGE}
`;

export const ASSIGN = gql`
  mutation Assign($influencerIds: [ID!]!, $segment: SegmentRef!) {
    assignToSegment(input: { influencerIds: $influencerIds, segment: $segment }) {
      segment {
        id
        name
        memberCount
      }
      influencers {
        ...InfluencerRow
      }
      userErrors {
        field
        message
        code
      }
    }
  }
  ${INFLUENCER_ROW}
`;

// Every membership change in the workspace, with what the cache needs to follow it: the
// segment's count and the influencer's segments (normalized by id, so every list showing them
// changes), without refetching anything.
export const CHANGES = gql`
  subscription Changes {
    segmentMembershipChanged {
      id
      change
      segment {
        id
        name
        memberCount
      }
      influencer {
        ...InfluencerRow
      }
    }
  }
  ${INFLUENCER_ROW}
`;
