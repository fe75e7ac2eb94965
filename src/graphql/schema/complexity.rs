//! What each field costs in the complexity limit (`Limits::max_complexity`, checked by
//! async-graphql): the `complexity` of a list or connection field multiplies what is selected
//! per item by how many items it may hold.

use super::connection::DEFAULT_PAGE_SIZE;

/// The cost of a connection field: the page size times the cost of what is selected per item.
pub fn connection_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first.or(last).map_or(DEFAULT_PAGE_SIZE as usize, |n| {
        usize::try_from(n).unwrap_or(0)
    });
    1 + size.max(1).saturating_mul(child)
}

/// The cost of a list without paging (an influencer's segments, a campaign's audience): an
/// estimate of its usual length times its selection.
pub fn list_cost(child: usize) -> usize {
    1 + 10usize.saturating_mul(child)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_cost_uses_the_page_size() {
        assert_eq!(connection_cost(Some(10), None, 3), 31);
        assert_eq!(connection_cost(None, Some(5), 2), 11);
        assert_eq!(connection_cost(None, None, 1), 21);
        assert_eq!(connection_cost(Some(-5), None, 1), 2);
    }
}
