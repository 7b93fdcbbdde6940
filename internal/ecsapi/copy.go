package ecsapi

import "reflect"

// copyMembers copies every member of the struct src points to into the
// same-named, same-typed member of the struct dst points to. Requests and the
// records they create share most members (RegisterTaskDefinitionInput and
// TaskDefinition, CreateServiceInput and Service), so whatever a caller sent
// round-trips, including members added to the SDK later.
func copyMembers(dst, src any) {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src).Elem()
	for i := range s.NumField() {
		sf := s.Type().Field(i)
		if !sf.IsExported() || sf.Name == "ResultMetadata" {
			continue
		}
		df, ok := d.Type().FieldByName(sf.Name)
		if !ok || df.Type != sf.Type || len(df.Index) != 1 {
			continue
		}
		d.Field(df.Index[0]).Set(s.Field(i))
	}
}
