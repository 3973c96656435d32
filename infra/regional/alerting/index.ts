export { AlertTopic, checkAlertTopicArgs, publishPolicyDocument, type AlertTopicArgs } from './alert-topic.js';
