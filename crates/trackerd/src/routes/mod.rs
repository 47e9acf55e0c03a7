pub mod iam;
pub mod queues;
pub mod users;
