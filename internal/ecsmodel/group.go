package ecsmodel

import "strings"

// Task group prefixes: a service's tasks are in group "service:NAME";
// RunTask's default group is "family:FAMILY".
const (
	serviceGroupPrefix = "service:"
	familyGroupPrefix  = "family:"
)

// ServiceGroup is the task group of a service's tasks.
func ServiceGroup(service string) string { return serviceGroupPrefix + service }

// ServiceOfGroup is the service whose tasks are in group; ok is false when
// group is not a service's.
func ServiceOfGroup(group string) (service string, ok bool) {
	return strings.CutPrefix(group, serviceGroupPrefix)
}

// FamilyGroup is RunTask's default group for tasks of a task definition
// family.
func FamilyGroup(family string) string { return familyGroupPrefix + family }
