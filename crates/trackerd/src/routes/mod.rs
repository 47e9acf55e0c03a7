pub mod changelog;
pub mod comments;
pub mod dictionaries;
pub mod iam;
pub mod issues;
pub mod links;
pub mod queues;
pub mod users;
