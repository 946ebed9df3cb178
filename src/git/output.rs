//! The output repository: env/<e> branches, hydrator metadata, promotion.
